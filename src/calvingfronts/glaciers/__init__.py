"""A glacier's outlines (fjord, centreline, box), and drafting a new glacier's configuration."""
