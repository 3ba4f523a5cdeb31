"""A glacier's fronts as a dataset for others: the export table and its formats
(:mod:`calvingfronts.dataset.fields`, :mod:`calvingfronts.dataset.export`) and the
publishable STAC collection (:mod:`calvingfronts.dataset.stac`)."""
