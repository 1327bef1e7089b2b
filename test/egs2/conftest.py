import sys

import pytest

from test.egs2.recipe_helpers import TEMPLATE, make_recipe

# The recipes' Python scripts (corpus preparation, tables) import as modules in the tests.
sys.path.insert(0, str(TEMPLATE / "pyscripts" / "utils"))


@pytest.fixture
def recipe(tmp_path):
    """A recipe directory (egs2/<corpus>/enh1 layout) linked to the template."""
    return make_recipe(tmp_path / "recipe")
