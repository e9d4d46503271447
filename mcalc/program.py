"""The parsed program (declarations, bindings, the formula) and the naming conventions
every stage shares. Below parse and shapes, so neither imports the other."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import Span
from .nodes import Node

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "omicron": "ο", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ",
    "upsilon": "υ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
GREEK_LETTER = {v: k for k, v in GREEK.items()} | {"ς": "sigma", "ϵ": "epsilon", "ϑ": "theta", "ϕ": "phi"}


def canonical_name(name: str) -> str:
    """Greek letters and their names are one symbol, spelled by name: λ → lambda."""
    base, sep, sub = name.partition("_")
    base = GREEK_LETTER.get(base, base)
    return base + sep + sub.replace("{", "").replace("}", "") if sep else base


def is_greek(name: str) -> bool:
    """A lower-case Greek name (a scalar by convention); Σ, Λ, ... are matrices like any capital."""
    base = name.partition("_")[0]
    return base in GREEK and base[0].islower()


@dataclass(frozen=True, slots=True)
class Decl:
    name: str
    dims: tuple
    symmetric: bool
    span: Span
    source: str = ""           # the text it was written in (the formula or a --where)
    probability: bool = False  # a probability vector: entries positive, summing to 1
    diagonal: bool = False     # a diagonal matrix: its gradient lives on diagonal matrices


@dataclass(frozen=True, slots=True)
class Signature:
    """f: R^m -> R^k, a function left abstract; domain and codomain are dimensions (1 for R)."""
    name: str
    domain: int | str
    codomain: int | str
    span: Span
    source: str = ""


@dataclass(frozen=True, slots=True)
class Binding:
    name: str
    value: Node
    span: Span


@dataclass(frozen=True, slots=True)
class Program:
    decls: tuple[Decl, ...]
    bindings: tuple[Binding, ...]
    body: Node
    source: str
    dims: tuple[str, ...] = ()      # more dimension names (a claim knows its formula's)
    notes: tuple[str, ...] = ()     # how ambiguous input was read (SPEC §1: never a silent misread)
    functions: tuple[Signature, ...] = ()   # abstract functions declared by signature (f: R^m -> R)
    bold: frozenset[str] = frozenset()      # Greek names set in bold in LaTeX (\boldsymbol{\mu}): arrays
