"""Which mapper draws a tensor, chosen by what the tensor *is* (its semantic name), not its shape.

Lookup for a dotted name such as "process.layer2.attn": the exact name, then its longest registered
dotted prefix ("process.layer2", then "process"), then the generic N-D grid.
"""
from __future__ import annotations

from viz.mappers.generic import GenericMapper
from viz.voxels import VoxelLayout

# name -> class; anything whose instances have map(name, data, **options) -> VoxelLayout
_MAPPERS: dict[str, type] = {}


def register(*names: str):
    """Class decorator: ``@register("attention", "process")`` makes the class draw those names and
    every dotted name under them. The class is instantiated with no arguments for each lookup."""
    if not names:
        raise ValueError("register() needs at least one semantic name")

    def decorate(cls: type) -> type:
        for name in names:
            held = _MAPPERS.get(name)
            # The same class (by qualified name) may re-register, e.g. when its module is reloaded.
            if held is not None and _qualname(held) != _qualname(cls):
                raise ValueError(f"{name!r} is already drawn by {_qualname(held)}, "
                                 f"cannot register {_qualname(cls)} for it")
            _MAPPERS[name] = cls
        return cls

    return decorate


def mapper_for(name: str):
    """A mapper instance for the tensor called ``name`` (see the module docstring for the order)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        cls = _MAPPERS.get(".".join(parts[:n]))
        if cls is not None:
            return cls()
    return GenericMapper()


def map_tensor(name: str, data, **options) -> VoxelLayout:
    """Voxels for one named tensor, drawn by the mapper its name selects."""
    return mapper_for(name).map(name, data, **options)


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
