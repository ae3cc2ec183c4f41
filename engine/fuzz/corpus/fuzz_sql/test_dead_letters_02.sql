CREATE STREAM result AS
SELECT id, name FROM sparse
WITH ('sparse.type' = 'file_source', 'sparse.path' = 'sparse.json', 'sparse.format' = 'json', 'sparse.schema' = 'id BIGINT, name STRING', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
