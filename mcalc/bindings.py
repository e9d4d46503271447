"""Bindings (y = ...; f(y)): inline them before differentiating, and name the input's bound
subexpressions again where they occur in the result."""
from __future__ import annotations

from collections import Counter

from . import ops
from .nodes import Add, Delta, Inverse, Mul, Node, Num, Power, Sym, Transpose, Unit, children, map_children, walk
from .render.text import render_result_text
from .shapes import Typed
from .simplify import mul, size, transpose
from .stretches import ranked_stretches


def inline(t: Typed, keep: frozenset = frozenset()) -> tuple[Node, dict[str, Node]]:
    """The body with every bound name replaced by its formula (except names in keep)."""
    return inline_bindings(t.bindings, t.body, keep)


def inline_bindings(bindings, body: Node, keep: frozenset = frozenset()) -> tuple[Node, dict[str, Node]]:
    values: dict[str, Node] = {}
    memo: dict[Node, Node] = {}

    def sub(n: Node) -> Node:
        hit = memo.get(n)
        if hit is not None:
            return hit
        if isinstance(n, Sym) and n.name in values and n.name not in keep:
            out = values[n.name]
        else:
            out = map_children(n, sub)
        memo[n] = out
        return out

    for name, value in bindings:
        values[name] = sub(value)
    return sub(body), values


def refold(result: Node, values: dict[str, Node], canon, taken=(), repeats: bool = True,
           spelled: dict[str, Node] | None = None) -> tuple[Node, list[tuple[str, Node]]]:
    """Name the input's bound subexpressions where they occur in the result, then (with
    repeats) name what the result still repeats (`name_repeats`); taken: names the new ones
    must avoid; spelled: the input's bindings as written, to print them so (`as_spelled`)."""
    out, bound = refold_bound(result, values, canon)
    out, lets = name_repeats(out, bound, set(taken) | set(values)) if repeats else (out, bound)
    return out, as_spelled(lets, dict(bound), spelled or {})


def reordered(raw: Node, v: Node) -> bool:
    """raw and v have the same operations and leaves, in another order (K + s^2 I for s^2 I +
    K): the user's spelling is kept, but not their extra brackets (a + (b + c)) or a + 0."""
    def parts(n: Node) -> Counter:
        return Counter(type(m).__name__ + ":" + getattr(m, "name", "") for m in walk(n))
    return parts(raw) == parts(v)


def as_spelled(lets: list[tuple[str, Node]], bound: dict[str, Node], spelled: dict[str, Node]) -> list[tuple[str, Node]]:
    """The input's own bindings as the user wrote them (C = K + s^2 I, not s^2 I + K), where
    the result keeps the binding as it was named (nothing renamed inside it) and every name it
    uses is bound before it in the result."""
    out, defined = [], set()
    for name, v in lets:
        raw = spelled.get(name)
        if raw is not None and bound.get(name) is v and reordered(raw, v):
            uses = {m.name for m in walk(raw) if isinstance(m, Sym) and m.name in spelled}
            if uses <= defined:
                v = raw
        out.append((name, v))
        defined.add(name)
    return out


def refold_bound(result: Node, values: dict[str, Node], canon) -> tuple[Node, list[tuple[str, Node]]]:
    table: dict[Node, str] = {}
    folded: dict[str, Node] = {}
    order = list(values)

    memo: dict[int, tuple[Node, Node]] = {}

    def fold(n: Node) -> Node:
        name = table.get(n)            # first: a binding's own value may have been folded before it was named
        if name is not None:
            return named(name, n.shape)
        hit = memo.get(id(n))
        if hit is not None and hit[0] is n:
            return hit[1]
        m = map_children(n, fold)
        name = table.get(m)
        out = named(name, m.shape) if name is not None else fold_terms(m)
        memo[id(n)] = (n, out)
        return out

    sums: list[tuple[str, Counter]] = []      # bound sums by their (folded) terms, latest first

    def fold_terms(m: Node) -> Node:
        """A sum that holds a bound sum's terms among its own names it: h1 + f(W2 h1) for
        f(W1 x) + x + f(W2 h1) with h1 = f(W1 x) + x (a residual net's layers)."""
        if not isinstance(m, Add) or not sums:
            return m
        have = Counter(m.args)
        for name, terms in sums:
            if len(terms) < len(m.args) and not terms - have:
                rest = list(m.args)
                for t in terms.elements():
                    rest.remove(t)
                inner = named(name, m.shape)
                return Add((inner,) + tuple(rest), shape=m.shape) if rest else inner
        return m

    symmetric: set[str] = set()

    def named(name: str, shape) -> Sym:
        """A bound name; a symmetric value's name is symmetric too (K = A + t B with A, B
        symmetric), so that y^T K^-1 reads as the transpose of K^-1 y."""
        return Sym(name, shape=shape, symmetric=name in symmetric)

    for name in order:
        c = canon(values[name])
        if not list(children(c)):
            continue
        if c.shape[0] == c.shape[1] != 1 and transpose(c) == c:
            symmetric.add(name)
        f = fold(c)
        folded[name] = f
        table[c] = name
        table[f] = name
        if isinstance(c, Add):
            sums.insert(0, (name, Counter(fold(a) for a in c.args)))
    out = fold(result)
    # a small binding used once reads better inlined: 2 aᵀ (t a + b)
    inside = {name: Counter(m for m in walk_syms(v) if m in folded) for name, v in folded.items()}
    at_top = Counter(m for m in walk_syms(out) if m in folded)

    def reachable() -> set[str]:
        seen, todo = set(), [m for m, c in at_top.items() if c]
        while todo:
            m = todo.pop()
            if m not in seen and m in folded:
                seen.add(m)
                todo.extend(inside[m])
        return seen

    for name in reversed(order):
        if name not in folded:
            continue
        live = reachable()
        uses = at_top[name] + sum(inside[k][name] for k in live if k != name)
        if uses == 1 and at_top[name] == 1 and size_of(folded[name]) < 8:
            out = unfold(out, name, folded[name])
            at_top.update(inside[name])
            at_top[name] = 0
            del folded[name]
    used: list[str] = []

    def need(n: Node):
        for m in walk_syms(n):
            if m in folded and m not in used:
                need(folded[m])
                used.append(m)

    need(out)
    return out, [(name, folded[name]) for name in order if name in used]


# names for a repeated subterm, by what it is: the record's `repeat_names` (s = σ(…)), M for a matrix, u for a vector
MATRIX_NAMES = ("M", "P", "Q", "R", "S")
OTHER_NAMES = ("u", "v", "r", "z", "q")
MAX_SHARED_NAMES = 6        # at most this many new names in one result
MAX_REJECTED = 3            # stretches of products tried and found not to shorten the text, then no more


def worth_naming(tokens: int, uses: int) -> bool:
    """A name pays when the text gets shorter by more than the binding costs, and the subterm is
    compound enough that a reader would name it: three uses of 5 tokens (σ(X W)), or two
    of 7 (σ(W1 x + b1)); x - a in (x - a)/||x - a|| stays written out."""
    gain = (uses - 1) * tokens - uses - 3          # `s = …;` once, then s at every use
    return gain > 0 and (uses >= 3 and tokens >= 4 or tokens >= 7)


def name_repeats(out: Node, lets: list[tuple[str, Node]], taken: set[str]) -> tuple[Node, list[tuple[str, Node]]]:
    """Name a repeated non-trivial subterm with a binding, largest saving first:
    W1^T (σ(W1 x + b1) .* (ones - σ(W1 x + b1))) becomes
    s = σ(W1 x + b1); W1^T (s .* (ones - s)), s from the record's `repeat_names`. A subterm may
    be a stretch of a product (`repeated_chains`): K^-1 y in K^-1 y y^T K^-1, its transpose
    y^T K^-1 counting as a use."""
    from .metric import tokens
    lets = list(lets)
    names = set(taken) | {name for name, _ in lets}
    for root in [out] + [v for _, v in lets]:
        for m in walk(root):
            if isinstance(m, Sym):
                names.add(m.name)
            for d in m.shape or ():
                names.update(p for p in str(d).split("*"))
    lengths: dict[Node, int] = {}      # tokens of a value: most bindings stay as they were

    def of(v: Node) -> int:
        if v not in lengths:
            lengths[v] = tokens(render_result_text(v))
        return lengths[v]

    def length(out, lets) -> int:
        return sum(of(v) + 3 for _, v in lets) + of(out)

    rejected: set = set()
    now = 0
    for _ in range(MAX_SHARED_NAMES + MAX_REJECTED):
        roots = [out] + [v for _, v in lets]
        counts = Counter(m for root in roots for m in walk(root)
                         if list(children(m)) and not (isinstance(m, Transpose) and not list(children(m.arg))))
        best, saving, chain = None, 0, False
        for m, k in counts.items():
            negated = isinstance(m, Mul) and isinstance(m.args[0], Num) and m.args[0].value < 0
            if k < 2 or negated or any(isinstance(x, (Delta, Unit)) for x in walk(m)):
                continue
            t = tokens(render_result_text(m))
            if worth_naming(t, k) and (k - 1) * t > saving:
                best, saving = m, (k - 1) * t
        for m, k in (repeated_chains(roots).items() if len(rejected) < MAX_REJECTED else ()):
            t = tokens(render_result_text(m))
            if m not in rejected and (worth_naming(t, k) or solves(m)) and max((k - 1) * t, 1) > saving:
                best, saving, chain = m, max((k - 1) * t, 1), True
        if best is None:
            break
        name = shared_name(best, names)
        sym = Sym(name, shape=best.shape)
        swap = (lambda n: replace_chain(n, best, sym)) if chain else (lambda n: replace_subterm(n, best, sym))
        new_out = swap(out)
        at = next((i for i, (_, v) in enumerate(lets) if swap(v) != v), len(lets))
        new_lets = [(k, swap(v)) for k, v in lets]
        new_lets.insert(at, (name, best))
        # a stretch of a product is named only where the whole text gets shorter (a solve K^-1 y
        # also where it grows by no more than its binding): the estimate above cannot see
        # how the rest of the product reads around the name
        if chain and length(new_out, new_lets) > (now := now or length(out, lets)) + (4 if solves(best) else -1):
            rejected.add(best)
            continue
        names.add(name)
        out, lets, now = new_out, new_lets, 0
        if sum(1 for n, _ in lets if n not in taken) >= MAX_SHARED_NAMES:
            break
    return out, lets


def scalar_part(n: Node) -> bool:
    """Whether a product has scalar factors besides its chain (chain_of leaves them out)."""
    return isinstance(n, Mul) and any(a.is_scalar for a in n.args)


def chain_of(n: Node) -> tuple[Node, ...]:
    return tuple(a for a in n.args if not a.is_scalar) if isinstance(n, Mul) else ()


def occurrences(chain: tuple, sub: tuple, tsub: tuple) -> int:
    """How often sub or tsub (of the same length) occurs in chain, without overlaps, left to right."""
    count, i, k = 0, 0, len(sub)
    while i + k <= len(chain):
        if chain[i:i + k] in (sub, tsub):
            count += 1
            i += k
        else:
            i += 1
    return count


CHAIN_CANDIDATES = 16     # repeated stretches of products examined per pass (the most promising)


def repeated_chains(roots: list[Node]) -> Counter:
    """Stretches of products that occur more than once, a transposed stretch counting as a use
    of the stretch it transposes (y^T K^-1 of K^-1 y for a symmetric K), by the product they
    make; only stretches shorter than their product (a whole product is a subterm already).
    Stretches are compared as tuples of small integers, one per distinct factor (equal factors,
    equal numbers), so that counting compares no trees."""
    chains = [c for root in roots for m in walk(root) if len(c := chain_of(m)) > 2 or
              len(c) == 2 and len(m.args) > 2]
    ids: dict[Node, int] = {}

    def numbered(c: tuple) -> tuple:
        return tuple(ids.setdefault(f, len(ids)) for f in c)

    coded = [numbered(c) for c in chains]
    by_id = {v: f for f, v in ids.items()}
    flipped: dict[int, int] = {}

    def flip(v: int) -> int:
        """The number of a factor's transpose (a factor-wise guess at the transposed stretch)."""
        if v not in flipped:
            flipped[v] = ids.setdefault(transpose(by_id[v]), len(ids))
        return flipped[v]

    # cheap first, on the numbers: a stretch met once whose factor-wise transpose is not met is
    # no repeat; of the rest, only the CHAIN_CANDIDATES most promising (uses bounded by the
    # overlapping count, times length) are built as trees: a product of 32 factors has hundreds
    # of repeated stretches, and building each through the simplifier took seconds. They are
    # ranked without enumerating them (stretches.ranked_stretches): 32 terms of 63 factors
    # have some 60,000 stretches
    flips = [tuple(flip(v) for v in reversed(cc)) for cc in coded]
    out: Counter = Counter()
    for j, i, k in ranked_stretches(coded, flips, CHAIN_CANDIDATES):
        sub, code = chains[j][i:i + k], coded[j][i:i + k]
        if any(isinstance(x, (Delta, Unit)) for f in sub for x in walk(f)):
            continue
        m = mul(*sub)
        if chain_of(m) != sub:
            continue
        tm = transpose(m)
        tsub = chain_of(tm)
        # a transposed stretch counts only when transposing takes no scalar out of it: for
        # M = W1 X^T (-v Sigma)^T, M^T is -v Sigma X W1, whose stretch Sigma X W1 is not M^T
        tcode = numbered(tsub) if len(tsub) == len(sub) and not scalar_part(tm) else None
        uses = sum(occurrences(d, code, tcode) for d in coded)
        if uses >= 2:
            out[tm if m.shape[0] == 1 and len(tsub) == len(sub) else m] = uses   # a column is named: α, not αᵀ
    return out


def solves(n: Node) -> bool:
    """An inverse applied to a vector (K^-1 y): named once even when that does not shorten
    the text, as Rasmussen & Williams write α = K^-1 y (a matrix Σ^-1 Xᵀ stays written out
    unless naming it is shorter)."""
    inverse = any(isinstance(f, Inverse) or isinstance(f, Power) and f.exp < 0 for f in chain_of(n))
    return inverse and len(chain_of(n)) >= 2 and is_column_vector(n)


def is_column_vector(n: Node) -> bool:
    return n.shape[1] == 1 and n.shape[0] != 1


def replace_chain(n: Node, part: Node, sym: Node) -> Node:
    """n with the stretch of product `part` (and its transpose) written as sym (symᵀ)."""
    tpart = transpose(part)
    sub = chain_of(part)
    tsub = chain_of(tpart) if not scalar_part(tpart) else sub    # see repeated_chains
    tsym = Transpose(sym, shape=(sym.shape[1], sym.shape[0]))

    def sub_(m: Node) -> Node:
        m = map_children(m, sub_)
        c = chain_of(m)
        if len(c) < len(sub):
            return m
        new, i = [], 0
        while i < len(c):
            if c[i:i + len(sub)] == sub:
                new.append(sym)
                i += len(sub)
            elif tsub != sub and c[i:i + len(tsub)] == tsub:
                new.append(tsym)
                i += len(tsub)
            else:
                new.append(c[i])
                i += 1
        if len(new) == len(c):
            return m
        args = [a for a in m.args if a.is_scalar] + new
        return args[0] if len(args) == 1 else Mul(tuple(args), shape=m.shape)
    return sub_(n)


def shared_name(n: Node, taken: set[str]) -> str:
    matrix = n.shape[0] != 1 and n.shape[1] != 1
    fn = getattr(n, "fn", None)
    pool = ops.lookup(fn).repeat_names if fn in ops.OPS else ()     # s = σ(…)
    if solves(n):
        pool = ("alpha",)                                           # α = K^-1 y (Rasmussen & Williams 5.9)
    pool = pool + (MATRIX_NAMES if matrix else OTHER_NAMES)
    for base in pool:
        if base not in taken:
            return base
    i = 1
    while f"{pool[0]}{i}" in taken:
        i += 1
    return f"{pool[0]}{i}"


def replace_subterm(n: Node, old: Node, new: Node) -> Node:
    memo: dict[int, Node] = {}

    def sub(m: Node) -> Node:
        if m == old:
            return new
        hit = memo.get(id(m))
        if hit is None:
            hit = memo[id(m)] = map_children(m, sub)
        return hit
    return sub(n)


def size_of(n: Node) -> int:
    return size(n)


def unfold(n: Node, name: str, value: Node) -> Node:
    if isinstance(n, Sym) and n.name == name:
        return value
    return map_children(n, lambda c: unfold(c, name, value))


def walk_syms(n: Node):
    return [m.name for m in walk(n) if isinstance(m, Sym)]
