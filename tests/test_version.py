"""The version flowsim reports is the one its installed metadata carries."""

from importlib.metadata import version

import flowsim


def test_the_version_is_the_installed_one():
    assert flowsim.__version__ == version("flowsim")
