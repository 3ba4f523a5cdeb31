"""Sections of a model card: set in place, or added before the configuration block."""

import subprocess
import sys

from calvingfronts.training.model_card import append_section, with_section

CARD = (
    "# Model card: m\n\n## A\n\na text\n\n## B\n\nb text\n\n## Configuration\n\n```json\n{}\n```\n"
)


def test_a_new_section_goes_before_the_configuration():
    text = with_section(CARD, "C", "c text")
    assert text.index("## B") < text.index("## C\n\nc text") < text.index("## Configuration")


def test_keep_place_replaces_a_section_where_it_stands():
    text = with_section(CARD, "A", "new text", keep_place=True)
    assert text.index("## A\n\nnew text") < text.index("## B")
    assert "a text" not in text and text.count("## A") == 1


def test_an_evaluation_added_again_moves_after_the_training_sections(tmp_path):
    card = tmp_path / "m.md"
    card.write_text(CARD)
    append_section(card, "A", "new text")
    text = card.read_text()
    assert text.index("## B") < text.index("## A\n\nnew text") < text.index("## Configuration")
    assert "a text" not in text and text.count("## A") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["m.md"]  # no temporary file left


def test_a_card_section_is_written_without_torch(tmp_path):
    """synthetic_check --card adds its section with ONNX Runtime alone, as inference does."""
    card = tmp_path / "m.md"
    card.write_text(CARD)
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from calvingfronts.training.model_card import append_section\n"
        f"append_section({str(card)!r}, 'Check', 'figures')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert "## Check\n\nfigures" in card.read_text()
