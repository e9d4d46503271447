"""The JSON object of SPEC §3."""
from __future__ import annotations

from ..render.text import render_text


def shape_list(shape) -> list:
    return [d if isinstance(d, int) else str(d) for d in shape]


def symbols_json(symbols) -> dict:
    return {name: {"shape": shape_list(info.shape), "inferred": info.inferred,
                   **({"symmetric": True} if info.symmetric else {})}
            for name, info in symbols.items()}


def result_json(result, verification=None, steps=None) -> dict:
    out = {
        "input": result.input,
        "wrt": result.wrt,
        "layout": result.layout,
        "order": result.order,
        "symbols": symbols_json(result.symbols),
        "derivative": result.text,
        "shape": shape_list(result.shape),
        "latex": result.latex,
        "numpy": result.numpy,
        "notes": list(result.notes),
    }
    if result.flatten:
        out["flatten"] = True
    if result.tensor is not None and not result.flatten:
        out["index"] = result.index[0] if result.index else None
        out["flattened"] = result.flat_text
    if verification is not None:
        out["verified"] = bool(verification.ok)
        out["verification_conclusive"] = bool(verification.conclusive)
        out["max_rel_error"] = verification.max_rel_error
    if steps is not None:
        out["steps"] = steps
    return out


def shape_json(res) -> dict:
    t = res.typed
    return {
        "input": res.input,
        "shape": shape_list(res.shape),
        "symbols": symbols_json(t.free_symbols()),
        "bound": {name: {"shape": shape_list(info.shape)} for name, info in t.symbols.items() if info.kind == "bound"},
        "dimensions": list(t.dims),
        "text": render_text(t.body),
        "notes": list(res.notes),
    }
