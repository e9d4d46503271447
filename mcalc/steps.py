"""--steps: the derivation as a person writes it. Through bindings, the chain rule with
each factor and its shape (seed 000 §4); otherwise the differential method: df, the rules
used (their identities are the rule docstrings), the identification, the layout."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .deriv.engine import Differentiator, free_names
from .deriv.rules import DIFF_RULES
from .layout import kind
from .nodes import Node
from .render.json import shape_list
from .render.latex import render_latex, render_latex_result, tex_name
from .render.text import render_text
from .render.unicode import render_unicode
from .shapes import fmt_shape
from .simplify import simplify


@dataclass
class Step:
    rule: str
    text: str
    latex: str
    unicode: str
    shape: tuple | None = None

    def to_json(self) -> dict:
        out = {"rule": self.rule, "text": self.text, "latex": self.latex}
        if self.shape is not None:
            out["shape"] = shape_list(self.shape)
        return out


def show(lhs: str, lhs_tex: str, node: Node, rule: str, shape=None) -> Step:
    shape = node.shape if shape is None else shape
    suffix = f"   [{fmt_shape(shape)}]" if shape else ""
    return Step(rule, f"{lhs} = {render_text(node)}{suffix}", f"{lhs_tex} &= {render_latex(node)}",
                f"{lhs} = {render_unicode(node)}{suffix}", tuple(shape) if shape else None)


def note(rule: str, text: str, tex: str) -> Step:
    return Step(rule, text, tex, text)


def function_name(result) -> str:
    """The function as the user named it: `L` in "y = X w; L = ||y - t||^2", else f."""
    return result.typed.function_name


def derivation(result) -> list[Step]:
    chain = chain_rule_steps(result)
    return chain if chain is not None else differential_steps(result)


def differential_steps(result) -> list[Step]:
    f = result.function
    var = result.wrt
    x = tex_name(var)
    steps = [show("f", "f", f, "function")]
    used: list[str] = []

    class Recording(Differentiator):
        def __call__(self, node):
            r = DIFF_RULES.get(type(node))
            doc = (r.__doc__ or "").strip() if r is not None else ""
            if doc and doc not in used and node not in self.memo and self.var in free(node):
                used.append(doc)
            return super().__call__(node)

    from .deriv.derive import is_symmetric
    from .simplify import add
    # a joint derivative (t, s) has the total differential, one term per variable
    names = list(result.joint) if result.joint else [var]
    infos = [result.typed.symbols[v] for v in names]
    df = simplify(add(*[Recording(v, info.shape if result.joint else result.var_shape, is_symmetric(info))(f)
                        for v, info in zip(names, infos)]))
    for doc in used:
        if doc.startswith("dX for the variable"):
            continue
        name, _, identity = doc.rpartition(": ")
        steps.append(Step(name or "rule", identity, "&" + identity_latex(identity), identity_unicode(identity)))
    steps.append(show("df", r"\mathrm{d}f", df, "differential"))
    fk, xk = kind(f.shape, True), kind(result.var_shape)
    if result.order == 2:
        steps.append(note("hessian", "the Hessian is the Jacobian of the gradient",
                          r"&\text{the Hessian is the Jacobian of the gradient}"))
    elif xk == "scalar":
        steps.append(note("identification", f"df = (∂f/∂{var}) d{var}", rf"&\mathrm{{d}}f = f' \, \mathrm{{d}}{x}"))
    elif fk == "scalar":
        steps.append(note("identification", f"df = tr(Gᵀ d{var}) gives the gradient G",
                          rf"&\mathrm{{d}}f = \operatorname{{tr}}(G^{{\top}} \mathrm{{d}}{x}) \Rightarrow \nabla f = G"))
    else:
        steps.append(note("identification", f"vec(df) = J vec(d{var}) gives the Jacobian J",
                          rf"&\operatorname{{vec}}(\mathrm{{d}}f) = J \operatorname{{vec}}(\mathrm{{d}}{x})"))
    steps.append(layout_step(result))
    return steps


IDENTITY_LATEX = [
    (r"\|\|([^|]*)\|\|_1", r"\\lVert \1 \\rVert_{1}"), (r"\|\|([^|]*)\|\|", r"\\lVert \1 \\rVert"),
    (r"\bd\(", r"\\mathrm{d}("), (r"\bd([A-Za-z])\b", r"\\mathrm{d}\1"), (r"\bd (?=[a-z|\\])", r"\\mathrm{d}\\,"),
    (r"\.\^\(([^)]*)\)", r"^{\\circ(\1)}"), (r"\.\^(\w+)", r"^{\\circ \1}"),
    (r"\^T\b", r"^{\\top}"), (r"\^-1", r"^{-1}"), (r"\^\(([^)]*)\)", r"^{\1}"), (r"\^(\w+)", r"^{\1}"),
    (r"\blogdet\(", r"\\log\\det("), (r"(?<!\\)\bdet\(", r"\\det("), (r"\b(tr|sum|vec|diag|sign)\(", r"\\operatorname{\1}("),
    (r"\bsum_i\b", r"\\sum_i"), (r"\.\*", r"\\odot"), (r"\./", r"\\oslash"), (r"\(x\)", r"\\otimes"),
    (r";", r",\\quad"),
]
IDENTITY_UNICODE = [(".^", "^∘"), ("^T", "ᵀ"), ("^-1", "⁻¹"), ("^2", "²"), (".*", "⊙"), ("./", "⊘"), ("(x)", "⊗"),
                    ("||", "‖"), ("sum_i", "Σᵢ")]


def identity_latex(doc: str) -> str:
    out = doc
    for pat, rep in IDENTITY_LATEX:
        out = re.sub(pat, rep, out)
    return out


def identity_unicode(doc: str) -> str:
    for a, b in IDENTITY_UNICODE:
        doc = doc.replace(a, b)
    return doc


def free(n: Node) -> frozenset:
    return free_names(n)


def layout_step(result) -> Step:
    lets = "".join(f"{n} = {render_text(v)}; " for n, v in result.bindings)
    text = f"∂f/∂{result.wrt} ({result.layout} layout) = {lets}{render_text(result.node)}   [{'×'.join(map(str, result.shape))}]"
    uni = f"∂f/∂{result.wrt} ({result.layout} layout) = {lets}{render_unicode(result.node)}   [{'×'.join(map(str, result.shape))}]"
    return Step("layout", text, rf"\frac{{\partial f}}{{\partial {tex_name(result.wrt)}}} &= {render_latex_result(result)}"
                + rf" && \text{{({result.layout} layout)}}", uni, tuple(result.shape))


def chain_rule_steps(result) -> list[Step] | None:
    """f(y(x)) with y a bound vector: ∇_y f, the Jacobian ∂y/∂xᵀ, and their product."""
    parts = result.chain() if result.chain is not None else None
    if parts is None:
        return None
    y, g, J = parts
    var = result.wrt
    ytex, xtex = tex_name(y), tex_name(var)
    steps = [show(f"∇_{y} f", rf"\nabla_{{{ytex}}} f", g.node, "step 1: gradient with respect to the intermediate",
                  g.shape)]
    steps.append(show(f"∂{y}/∂{var}ᵀ", rf"\frac{{\partial {ytex}}}{{\partial {xtex}^{{\top}}}}", J.node,
                      "step 2: Jacobian of the intermediate", J.shape))
    steps.append(note("step 3: chain rule",
                      f"∂f/∂{var}ᵀ = ∂f/∂{y}ᵀ ∂{y}/∂{var}ᵀ   [1×{g.shape[0]}][{J.shape[0]}×{J.shape[1]}], "
                      f"so ∇_{var} f = (∂{y}/∂{var}ᵀ)ᵀ ∇_{y} f",
                      rf"\frac{{\partial f}}{{\partial {xtex}^{{\top}}}} &= \frac{{\partial f}}{{\partial {ytex}^{{\top}}}}"
                      rf"\frac{{\partial {ytex}}}{{\partial {xtex}^{{\top}}}}"))
    steps.append(layout_step(result))
    return steps


def steps_latex(steps: list[Step]) -> str:
    return " \\\\\n".join(s.latex if "&" in s.latex else "&" + s.latex for s in steps)
