import pytest

from test.egs2.recipe_helpers import make_recipe


@pytest.fixture
def recipe(tmp_path):
    """A recipe directory (egs2/<corpus>/enh1 layout) linked to the template."""
    return make_recipe(tmp_path / "recipe")
