#!/usr/bin/env python3
"""Writes the text seed corpora of the fuzz targets (see README.md in this folder).

  corpus/fuzz_sql/           the job files of examples/ and scenarios/, and every query of
                             engine/tests/sql/*.test made into a whole job the way
                             sql_logic_test.cc wraps it, with each source's schema declared (a
                             source without '@schema' gets the one its records imply), so that
                             the jobs bind without reading a file
  corpus/fuzz_json_decoder/  the records of every JSON source of those tests, and edge cases
  corpus/fuzz_csv_decoder/   the records of every CSV source of those tests, and edge cases

The binary seeds (fuzz_snapshot, fuzz_kafka_message) are written by the test
FuzzCorpusTest.WriteSeeds (engine/tests/fuzz_corpus_test.cc). Run from the repository root:
    python3 engine/fuzz/make_seeds.py
It replaces the files it writes and leaves any other file of the corpus folders alone
(inputs that reproduced fixed crashes stay).
"""

import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "engine", "fuzz", "corpus")

# record_decoder_target.h: byte 0 picks the event time field (byte % 6 - 1) and format
# ((byte / 6) % 4); byte 1: bit 0 infer the schema, bits 1-2 batch size (1 = 7 rows), JSON bit 3
# records padded, CSV bit 3 header line and bits 4-5 the delimiter (0 = ',').
NO_EVENT_TIME = 0
INFER_7_ROWS_PADDED_OR_HEADER = 0x01 | 0x02 | 0x08
FIXED_7_ROWS_PADDED_OR_HEADER = 0x02 | 0x08
FIXED_1_ROW_UNPADDED_NO_HEADER = 0x00


def time_byte(field_index, time_format):
    """field_index: -1 (none) .. 4; time_format: 0 millis, 1 seconds, 2 ISO-8601, 3 auto."""
    return (field_index + 1) + 6 * time_format


def decoder_seed(time, options, text):
    return bytes([time, options]) + text.encode()


# --- the SQL logic tests ------------------------------------------------------------------

def sql_type(values):
    kinds = set()
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            kinds.add("BOOLEAN")
        elif isinstance(value, int):
            kinds.add("BIGINT")
        elif isinstance(value, float):
            kinds.add("DOUBLE")
        else:
            kinds.add("STRING")
    if kinds <= {"BIGINT"} and kinds:
        return "BIGINT"
    if kinds <= {"BIGINT", "DOUBLE"} and kinds:
        return "DOUBLE"
    if kinds == {"BOOLEAN"}:
        return "BOOLEAN"
    return "STRING"


def implied_schema(source):
    """The schema a source's records imply (the engine would infer much the same)."""
    columns = {}
    if source["format"] == "csv":
        lines = [line for line in source["records"] if line.strip()]
        if not lines:
            return None
        names = lines[0].split(",")
        return ", ".join(f"{name.strip()} STRING" for name in names)
    for line in source["records"]:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        for key, value in record.items():
            columns.setdefault(key, []).append(value)
    if not columns:
        return None
    return ", ".join(f"{name} {sql_type(values)}" for name, values in columns.items())


def mentions_word(text, word):
    return re.search(r"(?<![A-Za-z0-9_])" + re.escape(word) + r"(?![A-Za-z0-9_])", text) is not None


def parse_test_file(path):
    """Yields ('source', block) and ('query', sql, sources) in file order."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    sources = []
    while i < len(lines):
        line = lines[i].strip()
        if not line or line.startswith("#"):
            i += 1
            continue
        words = line.split()
        i += 1
        if words[0] == "source":
            block = {"name": words[1], "format": words[2], "properties": [], "records": []}
            while i < len(lines) and lines[i] != "":
                record = lines[i]
                if record.startswith("@"):
                    key, _, value = record[1:].partition(" ")
                    block["properties"].append((key, value))
                else:
                    block["records"].append(record)
                i += 1
            sources = [s for s in sources if s["name"] != block["name"]] + [block]
            yield ("source", block)
            continue
        sql = []
        while i < len(lines) and lines[i] != "----":
            sql.append(lines[i])
            i += 1
        i += 1
        while i < len(lines) and lines[i] != "":
            i += 1
        yield ("query", "\n".join(sql).strip().rstrip(";"), list(sources))


def wrap_query(sql, sources):
    """A whole job, as sql_logic_test.cc builds it, with paths spelled out and schemas declared."""
    paths = {f"{s['name']}_path": f"{s['name']}.{s['format']}" for s in sources}
    paths["output"] = "out.jsonl"
    if not sql.upper().startswith("SELECT"):
        return re.sub(r"\$\{(\w+)\}", lambda m: paths.get(m.group(1), m.group(0)), sql)
    properties = []
    for source in sources:
        if not mentions_word(sql, source["name"]):
            continue
        name = source["name"]
        properties += [f"'{name}.type' = 'file_source'", f"'{name}.path' = '{name}.{source['format']}'",
                       f"'{name}.format' = '{source['format']}'"]
        keys = [key for key, _ in source["properties"]]
        if "schema" not in keys:
            schema = implied_schema(source)
            if schema:
                properties.append(f"'{name}.schema' = '{schema}'")
        for key, value in source["properties"]:
            scoped = key[1:] if key.startswith(".") else f"{name}.{key}"
            properties.append(f"'{scoped}' = '{value}'")
    properties += ["'result.type' = 'file_sink'", "'result.path' = 'out.jsonl'"]
    return f"CREATE STREAM result AS\n{sql}\nWITH ({', '.join(properties)})\n"


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as out:
        out.write(data if isinstance(data, bytes) else data.encode())


# --- hand-written decoder edge cases ------------------------------------------------------

JSON_EDGE_CASES = {
    # fixed schema b BOOLEAN, i BIGINT, d DOUBLE, s STRING, t TIMESTAMP
    "types": '{"b":true,"i":1,"d":1.5,"s":"x","t":1000}\n'
             '{"b":null,"i":-9223372036854775808,"d":1e308,"s":"esc\\"aped \\u00e9","t":"2024-03-01T12:00:00.123Z"}\n'
             '{"B":false,"I":12,"S":12.5e3,"T":"2024-03-01 12:00:00+05:30"}\n',
    "mismatches": '{"i":9223372036854775808}\n{"i":"12"}\n{"d":"1.5"}\n{"b":1}\n{"t":"2024-02-30"}\n'
                  '{"t":1.5}\n{"t":-1e3}\n{"t":true}\n',
    "nested": '{"s":{"nested":[1,2,{"a":null}]},"i":2}\n{"s":[true,false]}\n{"s":-0.0}\n{"s":true}\n{"s":null}\n',
    "malformed": '{"s":"unterminated\n{"i":1,}\n[1,2]\n"string"\n{"a":1}{"b":2}\n{"i":1 "d":2}\n{}\n{"s":"\\ud800"}\n'
                 '{"i":1,"i":2}\n\n  \t\n{"s":"crlf"}\r\n',
    "key_order": '{"i":1,"s":"a","t":5}\n{"s":"b","i":2,"t":6}\n{"x":0,"i":3,"t":7}\n{"i\\u0073":1,"s":"c"}\n',
}

CSV_EDGE_CASES = {
    # fixed schema b BOOLEAN, i BIGINT, d DOUBLE, s STRING, t TIMESTAMP; header line first
    "types": 'b,i,d,s,t\ntrue,1,1.5,x,1000\nfalse,-9223372036854775808,-0.0,"quoted, comma",2024-03-01T12:00:00Z\n'
             'TRUE,+5,1e-320,"say ""hi""",2024-03-01 12:00:00.5\n',
    "nulls": 'b,i,d,s,t\n,,,,\n"","","","",""\n,,,"",\n',
    "mismatches": 'b,i,d,s,t\nyes,9223372036854775808,inf,x,1970-01-01T00:00:00+01:00\n1,2,nan,x,-5\n'
                  'f,0x10,1e400,x,2024-13-01\n',
    "malformed": 'b,i,d,s,t\n1,2,3\n1,2,3,4,5,6\n"unterminated,2,3,4,5\n"a"b,1,2,3,4\ntrue,1,1,x,1,\n\n \t\r\n',
}


def main():
    tests = sorted(glob.glob(os.path.join(ROOT, "engine", "tests", "sql", "*.test")))
    sql_dir = os.path.join(CORPUS, "fuzz_sql")
    json_dir = os.path.join(CORPUS, "fuzz_json_decoder")
    csv_dir = os.path.join(CORPUS, "fuzz_csv_decoder")
    written = {"sql": 0, "json": 0, "csv": 0}

    jobs = sorted(glob.glob(os.path.join(ROOT, "examples", "*.sql")) +
                  glob.glob(os.path.join(ROOT, "scenarios", "*", "*job.sql")))
    for path in jobs:
        relative = os.path.relpath(path, ROOT)
        write(sql_dir, relative.replace("/", "_"), open(path, encoding="utf-8").read())
        written["sql"] += 1

    for path in tests:
        stem = os.path.splitext(os.path.basename(path))[0]
        queries = 0
        for item in parse_test_file(path):
            if item[0] == "source":
                block = item[1]
                text = "\n".join(block["records"]) + "\n"
                if block["format"] == "json":
                    write(json_dir, f"test_{stem}_{block['name']}",
                          decoder_seed(NO_EVENT_TIME, INFER_7_ROWS_PADDED_OR_HEADER, text))
                    written["json"] += 1
                else:
                    write(csv_dir, f"test_{stem}_{block['name']}",
                          decoder_seed(NO_EVENT_TIME, INFER_7_ROWS_PADDED_OR_HEADER, text))
                    written["csv"] += 1
                continue
            _, sql, sources = item
            queries += 1
            write(sql_dir, f"test_{stem}_{queries:02d}.sql", wrap_query(sql, sources))
            written["sql"] += 1

    for name, text in JSON_EDGE_CASES.items():
        for label, time, options in [("", NO_EVENT_TIME, FIXED_7_ROWS_PADDED_OR_HEADER),
                                     ("_time_auto", time_byte(4, 3), FIXED_1_ROW_UNPADDED_NO_HEADER),
                                     ("_time_seconds", time_byte(1, 1), FIXED_7_ROWS_PADDED_OR_HEADER)]:
            write(json_dir, f"edge_{name}{label}", decoder_seed(time, options, text))
            written["json"] += 1
    for name, text in CSV_EDGE_CASES.items():
        for label, time, options in [("", NO_EVENT_TIME, FIXED_7_ROWS_PADDED_OR_HEADER),
                                     ("_time_iso", time_byte(4, 2), FIXED_7_ROWS_PADDED_OR_HEADER),
                                     ("_inferred", time_byte(3, 3), INFER_7_ROWS_PADDED_OR_HEADER)]:
            write(csv_dir, f"edge_{name}{label}", decoder_seed(time, options, text))
            written["csv"] += 1
    # The same rows with ';' as the delimiter.
    write(csv_dir, "edge_types_semicolon",
          decoder_seed(NO_EVENT_TIME, FIXED_7_ROWS_PADDED_OR_HEADER | (1 << 4),
                       CSV_EDGE_CASES["types"].replace(",", ";").replace('"quoted; comma"', '"quoted; semicolon"')))
    written["csv"] += 1

    print(f"make_seeds: {written['sql']} SQL jobs, {written['json']} JSON and {written['csv']} CSV inputs "
          f"under {os.path.relpath(CORPUS, ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
