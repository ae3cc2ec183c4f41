-- @name: nexmark_q22
-- @description: Nexmark Q22: get url directories
-- Each bid's first three url directories. Nexmark's SPLIT_INDEX(url, '/', i) counts from 0,
-- SPLIT_PART from 1.
CREATE STREAM nexmark_q22 AS
SELECT auction, bidder, price, channel,
       SPLIT_PART(url, '/', 4) AS dir1,
       SPLIT_PART(url, '/', 5) AS dir2,
       SPLIT_PART(url, '/', 6) AS dir3
FROM bid
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q22.type' = 'file_sink',
  'nexmark_q22.path' = '${OUTPUT:nexmark_q22.jsonl}'
);
