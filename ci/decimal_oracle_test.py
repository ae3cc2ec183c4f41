#!/usr/bin/env python3
"""Exact DECIMAL against an independent oracle: Python's decimal module.

Random DECIMAL values (of 64-bit and of 128-bit width, up to 38 digits, with halves that test
the rounding) go through `sluice run` in both dialects: arithmetic, comparisons, casts,
literals, and SUM/AVG/MIN/MAX/COUNT per group. The oracle computes every value with 120-digit
precision and rounds it to the result type with ROUND_HALF_UP; the result types follow Flink's
rules (LogicalTypeMerging: Hive's and SQL Server's), reimplemented here from their definition.
A value that does not fit its type is NULL, as in Flink. Every output field must equal the
oracle's text exactly: the digits of the scale, no exponent, no binary noise. Each job runs at
parallelism 1 and 2 (which must give the same rows).

Usage: ci/decimal_oracle_test.py build/sluice [--rows N] [--seed S]
"""
import argparse
import decimal
import json
import os
import random
import subprocess
import sys
import tempfile
from decimal import Decimal, ROUND_HALF_UP, ROUND_DOWN

decimal.getcontext().prec = 120
decimal.getcontext().Emax = 999999
decimal.getcontext().Emin = -999999

MAX_PRECISION = 38


# --- Flink's result types ---------------------------------------------------------------

def adjust(p, s):
    if p <= MAX_PRECISION:
        return (max(p, 1), s)
    integer_digits = p - s
    return (MAX_PRECISION, max(MAX_PRECISION - integer_digits, min(s, 6)))


def add_type(a, b):
    s = max(a[1], b[1])
    return adjust(max(a[0] - a[1], b[0] - b[1]) + s + 1, s)


def multiply_type(a, b):
    return adjust(a[0] + b[0] + 1, a[1] + b[1])


def divide_type(a, b):
    s = max(6, a[1] + b[0] + 1)
    return adjust(a[0] - a[1] + b[1] + s, s)


def modulo_type(a, b):
    s = max(a[1], b[1])
    return adjust(min(a[0] - a[1], b[0] - b[1]) + s, s)


BIGINT = (19, 0)


# --- values ----------------------------------------------------------------------------

def fit(value, t):
    """`value` rounded HALF_UP to type t's scale, or None when it has more than p digits."""
    if value is None:
        return None
    q = value.quantize(Decimal(1).scaleb(-t[1]), rounding=ROUND_HALF_UP)
    if abs(q) >= Decimal(10) ** (t[0] - t[1]):
        return None
    return q


def text(value, t):
    if value is None:
        return None
    value = value.quantize(Decimal(1).scaleb(-t[1]))
    if value == 0:
        value = abs(value)  # an exact number has no negative zero
    return format(value, "f")


def random_value(rng, t, null_share=0.05):
    """A value of type t: random digits, sometimes the largest, sometimes a half to round."""
    p, s = t
    roll = rng.random()
    if roll < null_share:
        return None
    if roll < 0.10:
        digits = "9" * p
    elif roll < 0.15:
        digits = "0"
    else:
        digits = str(rng.randrange(1, 10 ** rng.randint(1, p)))
    v = Decimal(digits).scaleb(-s)
    if rng.random() < 0.5:
        v = -v
    return fit(v, t)


def sql_type(t):
    return f"DECIMAL({t[0]}, {t[1]})"


# --- the columns and expressions --------------------------------------------------------

COLUMNS = {
    "a": (12, 4),
    "b": (10, 2),
    "w": (38, 10),   # 128-bit
    "v": (30, 2),    # 128-bit
    "t": (5, 5),     # all fraction
}


def col(name):
    return lambda r: r[name], COLUMNS[name]


def binary(op, left, right):
    lf, lt = left
    rf, rt = right
    if op == "+":
        t = add_type(lt, rt)
        f = lambda r: None if lf(r) is None or rf(r) is None else lf(r) + rf(r)
    elif op == "-":
        t = add_type(lt, rt)
        f = lambda r: None if lf(r) is None or rf(r) is None else lf(r) - rf(r)
    elif op == "*":
        t = multiply_type(lt, rt)
        f = lambda r: None if lf(r) is None or rf(r) is None else lf(r) * rf(r)
    elif op == "/":
        t = divide_type(lt, rt)
        f = lambda r: None if lf(r) is None or rf(r) is None or rf(r) == 0 else lf(r) / rf(r)
    elif op == "%":
        t = modulo_type(lt, rt)
        # BigDecimal.remainder: the sign of the dividend (Python's Decimal % does the same).
        f = lambda r: None if lf(r) is None or rf(r) is None or rf(r) == 0 else lf(r) % rf(r)
    else:
        raise ValueError(op)
    return (lambda r: fit(f(r), t)), t


def row_expressions():
    """(SQL text, oracle function of a row returning (kind, value), type) for the SELECT list."""
    n = (lambda r: None if r["n"] is None else Decimal(r["n"]), BIGINT)
    items = []
    pairs = [("a", "b"), ("b", "a"), ("w", "v"), ("v", "w"), ("a", "w"), ("w", "t"), ("t", "a"), ("b", "v")]
    for x, y in pairs:
        for op in "+-*/%":
            f, t = binary(op, col(x), col(y))
            items.append((f"{x} {op} {y}", f, t))
    for op in "+-*/":
        f, t = binary(op, col("a"), n)
        items.append((f"a {op} n", f, t))
    f, t = binary("*", n, col("w"))
    items.append(("n * w", f, t))
    # Nested: the inner result's type feeds the outer rule.
    inner = binary("*", col("a"), col("b"))
    f, t = binary("+", inner, col("w"))
    items.append(("a * b + w", f, t))
    inner = binary("-", col("v"), col("a"))
    f, t = binary("/", inner, col("b"))
    items.append(("(v - a) / b", f, t))
    items.append(("-w", lambda r: None if r["w"] is None else -r["w"], COLUMNS["w"]))
    items.append(("ABS(a)", lambda r: None if r["a"] is None else abs(r["a"]), COLUMNS["a"]))
    # Casts between DECIMALs round HALF_UP; one that does not fit is NULL.
    for name, target in [("a", (6, 1)), ("w", (20, 2)), ("v", (38, 20)), ("t", (2, 1)), ("b", (38, 0))]:
        items.append((f"CAST({name} AS {sql_type(target)})",
                      (lambda name, target: lambda r: fit(r[name], target))(name, target), target))
    return items


def comparisons():
    items = []
    for x, y in [("a", "b"), ("w", "v"), ("a", "w"), ("t", "b")]:
        for op, test in [("<", lambda c: c < 0), ("=", lambda c: c == 0), (">=", lambda c: c >= 0),
                         ("<>", lambda c: c != 0)]:
            items.append((f"{x} {op} {y}",
                          (lambda x, y, test: lambda r: None if r[x] is None or r[y] is None
                           else test((r[x] > r[y]) - (r[x] < r[y])))(x, y, test)))
    return items


# --- running ----------------------------------------------------------------------------

def run(sluice, job_path, out_path):
    """The job's output at parallelism 1; at parallelism 2 it must be the same rows."""
    outputs = []
    for parallelism in (1, 2):
        result = subprocess.run([sluice, "run", "--quiet", "--parallelism", str(parallelism), job_path],
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            sys.exit(f"sluice run --parallelism {parallelism} {job_path} failed ({result.returncode}):\n"
                     f"{result.stderr}")
        with open(out_path) as f:
            outputs.append(sorted(line for line in f if line.strip()))
        os.remove(out_path)
    if outputs[0] != outputs[1]:
        sys.exit(f"{job_path}: the output at parallelism 2 differs from the output at parallelism 1")
    return [json.loads(line, parse_float=str, parse_int=str) for line in outputs[0]]


class Checker:
    def __init__(self):
        self.compared = 0
        self.failures = []

    def expect(self, where, actual, expected):
        self.compared += 1
        if actual != expected:
            self.failures.append(f"{where}: sluice {actual!r}, oracle {expected!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sluice")
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--seed", type=int, default=20261208)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    rows = []
    for i in range(args.rows):
        r = {name: random_value(rng, t) for name, t in COLUMNS.items()}
        r["id"] = i
        r["g"] = rng.randrange(5)
        r["n"] = None if rng.random() < 0.05 else rng.randrange(-10 ** rng.randint(1, 18), 10 ** 18)
        # A decimal's text to CAST: digits beyond the scale round HALF_UP.
        r["s"] = format(Decimal(rng.randrange(-10 ** 20, 10 ** 20)).scaleb(-rng.randint(0, 14)), "f")
        rows.append(r)

    checker = Checker()
    with tempfile.TemporaryDirectory(prefix="sluice-decimal-") as tmp:
        data = os.path.join(tmp, "numbers.jsonl")
        with open(data, "w") as f:
            for r in rows:
                fields = [f'"id":{r["id"]}', f'"g":{r["g"]}']
                for name, t in COLUMNS.items():
                    fields.append(f'"{name}":{"null" if r[name] is None else text(r[name], t)}')
                fields.append(f'"n":{"null" if r["n"] is None else r["n"]}')
                fields.append(f'"s":"{r["s"]}"')
                f.write("{" + ",".join(fields) + "}\n")
        schema = "id BIGINT, g BIGINT, " + ", ".join(f"{n} {sql_type(t)}" for n, t in COLUMNS.items()) + \
            ", n BIGINT, s STRING"

        # 1. Row-wise arithmetic, casts and comparisons, in our dialect.
        expressions = row_expressions()
        tests = comparisons()
        select = ["id"] + [f"{sql} AS e{i}" for i, (sql, _, _) in enumerate(expressions)] + \
            [f"{sql} AS c{i}" for i, (sql, _) in enumerate(tests)] + \
            ["CAST(a AS BIGINT) AS to_bigint", "CAST(w AS STRING) AS to_string", "CAST(a AS DOUBLE) AS to_double",
             "CAST(s AS DECIMAL(38, 10)) AS from_string", "CAST(n AS DECIMAL(18, 0)) AS from_bigint"]
        out = os.path.join(tmp, "rows.jsonl")
        job = os.path.join(tmp, "rows.sql")
        with open(job, "w") as f:
            f.write(f"CREATE STREAM result AS SELECT {', '.join(select)} FROM numbers\n"
                    f"WITH ('numbers.type' = 'file_source', 'numbers.path' = '{data}', 'numbers.format' = 'json',\n"
                    f"      'numbers.schema' = '{schema}',\n"
                    f"      'result.type' = 'file_sink', 'result.path' = '{out}', 'result.format' = 'json');\n")
        output = sorted(run(args.sluice, job, out), key=lambda o: int(o["id"]))
        if len(output) != len(rows):
            sys.exit(f"{len(output)} output rows for {len(rows)} input rows")
        for r, o in zip(rows, output):
            for i, (sql, f, t) in enumerate(expressions):
                checker.expect(f"row {r['id']}: {sql} ({sql_type(t)})", o[f"e{i}"], text(f(r), t))
            for i, (sql, f) in enumerate(tests):
                checker.expect(f"row {r['id']}: {sql}", o[f"c{i}"], f(r))
            checker.expect(f"row {r['id']}: CAST(a AS BIGINT)", o["to_bigint"],
                           None if r["a"] is None else str(int(r["a"].to_integral_value(rounding=ROUND_DOWN))))
            checker.expect(f"row {r['id']}: CAST(w AS STRING)", o["to_string"], text(r["w"], COLUMNS["w"]))
            if r["a"] is not None:
                checker.expect(f"row {r['id']}: CAST(a AS DOUBLE)", float(o["to_double"]), float(r["a"]))
            checker.expect(f"row {r['id']}: CAST(s AS DECIMAL(38, 10))", o["from_string"],
                           text(fit(Decimal(r["s"]), (38, 10)), (38, 10)))
            checker.expect(f"row {r['id']}: CAST(n AS DECIMAL(18, 0))", o["from_bigint"],
                           text(fit(None if r["n"] is None else Decimal(r["n"]), (18, 0)), (18, 0)))

        # 2. Aggregates per group: SUM is DECIMAL(38, s), AVG DECIMAL(38, max(s, 6)).
        aggregated = ["a", "b", "t", "v", "w"]
        select = ["g"]
        for name in aggregated:
            select += [f"SUM({name}) AS sum_{name}", f"AVG({name}) AS avg_{name}", f"MIN({name}) AS min_{name}",
                       f"MAX({name}) AS max_{name}", f"COUNT({name}) AS count_{name}"]
        select.append("SUM(a * b) AS sum_ab")
        out = os.path.join(tmp, "groups.jsonl")
        job = os.path.join(tmp, "groups.sql")
        with open(job, "w") as f:
            f.write(f"CREATE STREAM result AS SELECT {', '.join(select)} FROM numbers GROUP BY g EMIT FINAL\n"
                    f"WITH ('numbers.type' = 'file_source', 'numbers.path' = '{data}', 'numbers.format' = 'json',\n"
                    f"      'numbers.schema' = '{schema}',\n"
                    f"      'result.type' = 'file_sink', 'result.path' = '{out}', 'result.format' = 'json');\n")
        output = {int(o["g"]): o for o in run(args.sluice, job, out)}
        for g in sorted({r["g"] for r in rows}):
            members = [r for r in rows if r["g"] == g]
            o = output.get(g)
            if o is None:
                checker.failures.append(f"group {g}: missing")
                continue
            for name in aggregated + ["ab"]:
                t = COLUMNS.get(name, multiply_type(COLUMNS["a"], COLUMNS["b"]))
                values = [r[name] for r in members if r[name] is not None] if name != "ab" else \
                    [fit(r["a"] * r["b"], t) for r in members if r["a"] is not None and r["b"] is not None]
                sum_type = (38, t[1])
                total = sum(values, Decimal(0)) if values else None
                checker.expect(f"group {g}: SUM({name})", o[f"sum_{name}"], text(fit(total, sum_type), sum_type))
                if name == "ab":
                    continue
                avg_type = (38, max(t[1], 6))
                checker.expect(f"group {g}: AVG({name})", o[f"avg_{name}"],
                               text(fit(None if not values else total / len(values), avg_type), avg_type))
                checker.expect(f"group {g}: MIN({name})", o[f"min_{name}"], text(min(values) if values else None, t))
                checker.expect(f"group {g}: MAX({name})", o[f"max_{name}"], text(max(values) if values else None, t))
                checker.expect(f"group {g}: COUNT({name})", o[f"count_{name}"], str(len(values)))

        # 3. Flink's dialect: a literal with a point is an exact DECIMAL ("0.908" is DECIMAL(3, 3)),
        # and INSERT INTO casts to the table's wider DECIMAL.
        out = os.path.join(tmp, "flink.jsonl")
        job = os.path.join(tmp, "flink.sql")
        n_col = (lambda r: None if r["n"] is None else Decimal(r["n"]), BIGINT)
        literal_items = [("0.908 * n", binary("*", ((lambda r: Decimal("0.908")), (3, 3)), n_col)),
            ("a + 1.5", binary("+", col("a"), ((lambda r: Decimal("1.5")), (2, 1)))),
            ("w * 0.001", binary("*", col("w"), ((lambda r: Decimal("0.001")), (3, 3)))),
            ("b / 7.00", binary("/", col("b"), ((lambda r: Decimal("7.00")), (3, 2))))]
        columns = ", ".join(f"x{i} {sql_type(t)}" for i, (_, (_, t)) in enumerate(literal_items))
        with open(job, "w") as f:
            f.write(f"CREATE TABLE numbers ({schema}) WITH ('connector' = 'filesystem', 'path' = '{data}', "
                    f"'format' = 'json');\n"
                    f"CREATE TABLE result (id BIGINT, {columns}, wider DECIMAL(38, 8)) WITH ('connector' = "
                    f"'filesystem', 'path' = '{out}', 'format' = 'json');\n"
                    f"INSERT INTO result SELECT id, {', '.join(sql for sql, _ in literal_items)}, a FROM numbers;\n")
        output = sorted(run(args.sluice, job, out), key=lambda o: int(o["id"]))
        for r, o in zip(rows, output):
            for i, (sql, (f, t)) in enumerate(literal_items):
                checker.expect(f"row {r['id']}: {sql} (Flink, {sql_type(t)})", o[f"x{i}"], text(f(r), t))
            checker.expect(f"row {r['id']}: a into DECIMAL(38, 8)", o["wider"], text(r["a"], (38, 8)))

    if checker.failures:
        print(f"decimal oracle: {len(checker.failures)} of {checker.compared} values differ", file=sys.stderr)
        for failure in checker.failures[:25]:
            print("  " + failure, file=sys.stderr)
        sys.exit(1)
    nulls = sum(1 for r in rows for name in COLUMNS if r[name] is None)
    print(f"decimal oracle: {checker.compared} values of {len(rows)} rows (seed {args.seed}, {nulls} NULL inputs) "
          f"equal Python's decimal module")


if __name__ == "__main__":
    main()
