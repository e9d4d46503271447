"""--steps: the derivation as a person writes it. Through bindings, the chain rule with
each factor and its shape (seed 000 §4); otherwise the differential method: df, the rules
used (their identities are the rule docstrings), the identification, the layout."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import ops
from .deriv.engine import Differentiator, free_names, is_symmetric
from .deriv.rules import identity_of
from .layout import kind
from .nodes import Node
from .render.json import shape_list
from .render.latex import is_vector, render_latex, render_latex_result, symbol, tex_name
from .render.text import render_text
from .render.unicode import render_unicode
from .rewrite import recording
from .shapes import fmt_shape
from .simplify import add, simplify


@dataclass
class Step:
    rule: str
    text: str
    latex: str
    unicode: str
    shape: tuple | None = None
    fired: tuple[str, ...] = ()       # the named simplification rules that fired to give this step

    def to_json(self) -> dict:
        out = {"rule": self.rule, "text": self.text, "latex": self.latex}
        if self.shape is not None:
            out["shape"] = shape_list(self.shape)
        if self.fired:
            out["simplified_by"] = list(self.fired)
        return out

    @property
    def fired_text(self) -> str:
        """`simplified by: expand_product, fold_transpose ×2`, or "" when no rule fired."""
        return f"simplified by: {compact(self.fired)}" if self.fired else ""

    @property
    def fired_latex(self) -> str:
        if not self.fired:
            return ""
        names = compact(self.fired).replace("_", r"\_").replace(" ×", r" $\times$")
        return r" && \text{\footnotesize simplified by: " + names + "}"


def compact(names) -> str:
    """Rule names in the order they first fired, a repeat counted: a, b ×2."""
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return ", ".join(n if k == 1 else f"{n} ×{k}" for n, k in counts.items())


def traced(compute):
    """(value, the names of the rewrite rules that fired computing it, in order)."""
    with recording() as fired:
        value = compute()
    return value, tuple(name for name, _, _ in fired)


def with_fired(step: Step, fired) -> Step:
    return replace(step, fired=tuple(fired))


def derivation_fired(result) -> tuple[str, ...]:
    """The rules the derivation of result fires, from the typed program to the result (the
    engine run again under recording(), which also turns the rewrite memo off, so that every
    firing is seen); () for a result made without the engine at hand."""
    if result.engine is None:
        return ()
    return traced(lambda: result.engine(*result.request))[1]


def final_step(result, shown: list[Step]) -> Step:
    """The layout row, with the rules the derivation fired beyond those of the rows above."""
    seen = {n for s in shown for n in s.fired}
    return with_fired(layout_step(result), [n for n in derivation_fired(result) if n not in seen])


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


def var_tex(result) -> str:
    """The variable as the result's LaTeX writes it: bold when it is a vector."""
    return symbol(result.wrt, is_vector(result.var_shape) and not result.joint)


def on_equals(tex: str) -> str:
    """An identity's row, aligned on its first `=` like the other rows."""
    left, eq, right = tex.partition(" = ")
    return f"{left} &= {right}" if eq else "&" + tex


def differential_steps(result) -> list[Step]:
    f = result.function
    var = result.wrt
    x = var_tex(result)
    fn = function_name(result)
    ftex = tex_name(fn)
    steps = [show(fn, ftex, f, "function")]
    used: list[str] = []

    class Recording(Differentiator):
        def __call__(self, node):
            doc = identity_of(node)
            if doc and doc not in used and node not in self.memo and self.var in free(node):
                used.append(doc)
            return super().__call__(node)

    # a joint derivative (t, s) has the total differential, one term per variable
    names = list(result.joint) if result.joint else [var]
    infos = [result.typed.symbols[v] for v in names]
    df, df_fired = traced(lambda: simplify(add(*[Recording(v, info.shape if result.joint else result.var_shape,
                                                                     is_symmetric(info))(f)
                                                           for v, info in zip(names, infos)])))
    for doc in used:
        if doc.startswith("dX for the variable"):
            continue
        name, _, identity = doc.rpartition(": ")
        steps.append(Step(name or "rule", identity, on_equals(identity_latex(identity)), identity_unicode(identity)))
    steps.append(with_fired(show(f"d{fn}", rf"\mathrm{{d}}{ftex}", df, "differential"), df_fired))
    fk, xk = kind(f.shape, True), kind(result.var_shape)
    if result.order == 2:
        steps.append(note("hessian", "the Hessian is the Jacobian of the gradient",
                          r"&\text{the Hessian is the Jacobian of the gradient}"))
    elif xk == "scalar":
        steps.append(note("identification", f"d{fn} = (∂{fn}/∂{var}) d{var}",
                          rf"\mathrm{{d}}{ftex} &= {ftex}' \, \mathrm{{d}}{x}"))
    elif fk == "scalar":
        steps.append(note("identification", f"d{fn} = tr(Gᵀ d{var}) gives the gradient G",
                          rf"\mathrm{{d}}{ftex} &= \operatorname{{tr}}(G^{{\top}} \mathrm{{d}}{x}) \Rightarrow \nabla {ftex} = G"))
    else:
        steps.append(note("identification", f"vec(d{fn}) = J vec(d{var}) gives the Jacobian J",
                          rf"\operatorname{{vec}}(\mathrm{{d}}{ftex}) &= J \operatorname{{vec}}(\mathrm{{d}}{x})"))
    steps.append(final_step(result, steps))
    return steps


IDENTITY_LATEX = [
    (r"\|\|([^|]*)\|\|_1", r"\\lVert \1 \\rVert_{1}"), (r"\|\|([^|]*)\|\|", r"\\lVert \1 \\rVert"),
    (r"\bd\(", r"\\mathrm{d}("), (r"\bd([A-Za-z])\b", r"\\mathrm{d}\1"), (r"\bd (?=[a-z|\\])", r"\\mathrm{d}\\,"),
    (r"\.\^\(([^)]*)\)", r"^{\\circ(\1)}"), (r"\.\^(\w+)", r"^{\\circ \1}"),
    (r"\^T\b", r"^{\\top}"), (r"\^-1", r"^{-1}"), (r"\^\(([^)]*)\)", r"^{\1}"), (r"\^(\w+)", r"^{\1}"),
    (r"\bsum_i\b", r"\\sum_i"), (r"\.\*", r"\\odot"), (r"\./", r"\\oslash"), (r"\(x\)", r"\\otimes"),
    (r";", r",\\quad"),
]
IDENTITY_UNICODE = [(".^", "^∘"), ("^T", "ᵀ"), ("^-1", "⁻¹"), ("^2", "²"), (".*", "⊙"), ("./", "⊘"), ("(x)", "⊗"),
                    ("||", "‖"), ("sum_i", "Σᵢ")]


# name( → the record's LaTeX head (\\det(, \\operatorname{tr}(): each record written `HEAD({0})`
CALL_LATEX = {op.name: op.latex[:-len("({0})")].replace("{{", "{").replace("}}", "}")
              for op in ops.RECORDS if op.latex.endswith("({0})") and op.latex.count("{0}") == 1}
CALL_PATTERN = re.compile(r"(?<![\\\w])(" + "|".join(sorted(map(re.escape, CALL_LATEX), key=len, reverse=True)) + r")\(")


def identity_latex(doc: str) -> str:
    out = doc
    for pat, rep in IDENTITY_LATEX:
        out = re.sub(pat, rep, out)
    return CALL_PATTERN.sub(lambda m: CALL_LATEX[m.group(1)] + "(", out)


def identity_unicode(doc: str) -> str:
    for a, b in IDENTITY_UNICODE:
        doc = doc.replace(a, b)
    return doc


def free(n: Node) -> frozenset:
    return free_names(n)


def layout_step(result) -> Step:
    lets = "".join(f"{n} = {render_text(v)}; " for n, v in result.bindings)
    fn = function_name(result)
    text = f"∂{fn}/∂{result.wrt} ({result.layout} layout) = {lets}{render_text(result.node)}   [{'×'.join(map(str, result.shape))}]"
    uni = f"∂{fn}/∂{result.wrt} ({result.layout} layout) = {lets}{render_unicode(result.node)}   [{'×'.join(map(str, result.shape))}]"
    return Step("layout", text, rf"\frac{{\partial {tex_name(fn)}}}{{\partial {var_tex(result)}}} &= {render_latex_result(result)}"
                + rf" && \text{{({result.layout} layout)}}", uni, tuple(result.shape))


def chain_rule_steps(result) -> list[Step] | None:
    """f(y(x)) with y a bound vector: ∇_y f, the Jacobian ∂y/∂xᵀ, and their product."""
    parts, fired = traced(result.chain) if result.chain is not None else (None, ())
    if parts is None:
        return None
    y, g, J = parts
    g_fired = traced(lambda: result.engine(y, "mixed", 1, False, False))[1] if result.engine else ()   # chain's first half
    j_fired = fired[len(g_fired):] if fired[:len(g_fired)] == g_fired else ()
    var = result.wrt
    ytex, xtex = symbol(y, True), symbol(var, True)          # both vectors here
    fn = function_name(result)
    ftex = tex_name(fn)
    steps = [with_fired(show(f"∇_{y} {fn}", rf"\nabla_{{{ytex}}} {ftex}", g.node,
                             "step 1: gradient with respect to the intermediate", g.shape), g_fired)]
    steps.append(with_fired(show(f"∂{y}/∂{var}ᵀ", rf"\frac{{\partial {ytex}}}{{\partial {xtex}^{{\top}}}}", J.node,
                                 "step 2: Jacobian of the intermediate", J.shape), j_fired))
    steps.append(note("step 3: chain rule",
                      f"∂{fn}/∂{var}ᵀ = ∂{fn}/∂{y}ᵀ ∂{y}/∂{var}ᵀ   [1×{g.shape[0]}][{J.shape[0]}×{J.shape[1]}], "
                      f"so ∇_{var} {fn} = (∂{y}/∂{var}ᵀ)ᵀ ∇_{y} {fn}",
                      rf"\frac{{\partial {ftex}}}{{\partial {xtex}^{{\top}}}} &= \frac{{\partial {ftex}}}{{\partial {ytex}^{{\top}}}}"
                      rf"\frac{{\partial {ytex}}}{{\partial {xtex}^{{\top}}}}"))
    steps.append(final_step(result, steps))
    return steps


def steps_latex(steps: list[Step]) -> str:
    return " \\\\\n".join((s.latex if "&" in s.latex else "&" + s.latex) + s.fired_latex for s in steps)
