"""CAD meshes (issue #3): measuring uploaded STL/OBJ files and generating demo meshes.

Needs the ``cad`` extra (numpy). The arithmetic on the measurements (weights,
casting checks) is the core's: :mod:`caratzon_core.geometry`.
"""

from caratzon_adapters.cad.analysis import (
    ANALYSED_FORMATS,
    STORED_ONLY_FORMATS,
    CadParseError,
    analyse_cad,
)

__all__ = ["ANALYSED_FORMATS", "STORED_ONLY_FORMATS", "CadParseError", "analyse_cad"]
