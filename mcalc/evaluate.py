"""Evaluate a node on NumPy arrays: one method per node class. Every value is 2-D
(a scalar is 1×1, a vector n×1), so the rules of matrix algebra carry over unchanged."""
from __future__ import annotations

import numpy as np

from . import ops
from .dims import eval_dim
from .nodes import CONSTANTS, Node
from .render.base import Renderer


def commutation(m: int, n: int) -> np.ndarray:
    """K with K vec(A) = vec(Aᵀ) for A m×n (vec stacks columns)."""
    K = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            K[i * n + j, j * m + i] = 1.0
    return K


class Evaluator(Renderer):
    def __init__(self, env: dict[str, np.ndarray], dims: dict[str, int]):
        self.env = env
        self.dims = dims
        self.memo: dict[Node, np.ndarray] = {}

    def render(self, node):
        hit = self.memo.get(node)
        if hit is None:
            hit = super().render(node)
            self.memo[node] = hit
        return hit

    def dim(self, d) -> int:
        return eval_dim(d, self.dims)

    def size(self, shape) -> tuple[int, ...]:
        return tuple(self.dim(d) for d in shape)

    def _render_Sym(self, n):
        return self.env[n.name]

    def _render_Delta(self, n):
        """A differential dX evaluates to the direction given as env['dX']."""
        return self.env["d" + n.name]

    def _render_Size(self, n):
        return np.full((1, 1), float(self.dim(n.name)))

    def _render_Constant(self, n):
        return np.full((1, 1), CONSTANTS[n.name])

    def _render_Num(self, n):
        return np.full((1, 1), float(n.value))

    def _render_Identity(self, n):
        return np.eye(self.dim(n.shape[0]))

    def _render_Ones(self, n):
        return np.ones(self.size(n.shape))

    def _render_Zero(self, n):
        return np.zeros(self.size(n.shape))

    def _render_Unit(self, n):
        e = np.zeros(self.size(n.shape))
        k = int(n.index) - 1 if n.index.isdigit() else int(self.env["_index_" + n.index])
        e[k, 0] = 1.0
        return e

    def _render_Apply(self, n):
        """env[fn] holds the function's callables: value, gradient / Jacobian and Hessian."""
        u = np.asarray(self.render(n.arg), dtype=float)
        out = self.env[n.fn][n.order](u.reshape(-1) if u.shape != (1, 1) else u.reshape(1))
        return np.asarray(out, dtype=float).reshape(self.size(n.shape))

    def _render_HCat(self, n):
        return np.hstack([np.atleast_2d(self.render(a)) for a in n.args])

    def _render_Commutation(self, n):
        return commutation(self.dim(n.m), self.dim(n.n))

    def _render_Add(self, n):
        out = self.render(n.args[0])
        for a in n.args[1:]:
            out = out + self.render(a)
        return out

    def _render_Neg(self, n):
        return -self.render(n.arg)

    def _render_Mul(self, n):
        scal = 1.0
        chain = []
        for a in n.args:
            v = self.render(a)
            if a.shape == (1, 1):
                scal = scal * v
            else:
                chain.append(v)
        if not chain:
            return scal
        out = chain[-1]
        for v in reversed(chain[:-1]):
            out = v @ out
        return scal * out

    def _render_Div(self, n):
        return self.render(n.left) / self.render(n.right)

    def _render_Power(self, n):
        a = self.render(n.arg)
        if n.arg.shape == (1, 1):
            return a ** float(n.exp)
        k = int(n.exp)
        return np.linalg.matrix_power(a if k > 0 else np.linalg.inv(a), abs(k))

    def _render_Transpose(self, n):
        return self.render(n.arg).T

    def _render_Inverse(self, n):
        return np.linalg.inv(self.render(n.arg))

    def _render_Hadamard(self, n):
        return self.render(n.left) * self.render(n.right)

    def _render_HadDiv(self, n):
        return self.render(n.left) / self.render(n.right)

    def _render_VarPow(self, n):
        return self.render(n.arg) ** self.render(n.exp)

    def _render_EPow(self, n):
        return self.render(n.arg) ** float(n.exp)

    def _render_Kron(self, n):
        return np.kron(self.render(n.left), self.render(n.right))

    def _render_Function(self, n):
        """tr, det, logdet, sum, vec: the evaluator of the class's record (diag's depends on the shape)."""
        return ops.BY_NODE[type(n)].evaluate(np, self.render(n.arg))

    def _render_Diag(self, n):
        a = self.render(n.arg)
        if n.arg.shape[1] == 1 and n.arg.shape[0] != 1:
            return np.diag(a[:, 0])
        return np.diag(a).reshape(-1, 1)

    def _render_Norm(self, n):
        a = self.render(n.arg)
        vector = a.shape[0] == 1 or a.shape[1] == 1
        if n.kind == "1":
            v = np.sum(np.abs(a)) if vector else np.linalg.norm(a, 1)
        elif n.kind == "2" and not vector:
            v = np.linalg.norm(a, 2)
        else:
            v = np.linalg.norm(a)
        return np.full((1, 1), v)

    def _render_Elementwise(self, n):
        return ops.lookup(n.fn).evaluate(np, self.render(n.arg))

    def _render_Call(self, n):
        return ops.lookup(n.fn).evaluate(np, *(self.render(a) for a in n.args))


def evaluate(node: Node, env: dict[str, np.ndarray], dims: dict[str, int]) -> np.ndarray:
    return Evaluator(env, dims).render(node)
