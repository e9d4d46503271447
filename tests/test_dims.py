"""Dimensions (dims.py): a product of dimensions is a frozen value spelled canonically, and
dims.factors is the one place that reads it."""
from mcalc.dims import Product, dim_names, dim_product, factors, is_product


def test_a_product_is_canonical_and_equal_to_its_spelling():
    p = dim_product(["n", "m"])
    assert isinstance(p, Product) and p == "m*n" and hash(p) == hash("m*n")
    assert dim_product(["m", "n"]) == dim_product(["n", "m"])           # m·n = n·m
    assert dim_product([2, "n", 3, "m"]) == "6*m*n"
    assert dim_product([dim_product(["m", "n"]), "p"]) == "m*n*p"       # products of products flatten
    assert dim_product([3, 4]) == 12 and dim_product(["n", 1]) == "n"   # no product of one name


def test_factors_and_names():
    assert factors(3) == (3,) and factors("n") == ("n",)
    assert factors(dim_product([2, "n", "m"])) == (2, "m", "n") == dim_product([2, "n", "m"]).factors
    assert factors("2*m*n") == (2, "m", "n")                             # a plain spelling reads the same
    assert dim_names(3) == () and dim_names("n") == ("n",) and dim_names("2*m*n") == ("m", "n")
    assert is_product("m*n") and not is_product("n") and not is_product(6)
