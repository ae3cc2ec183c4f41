-- @name: nexmark_q11
-- @description: Nexmark Q11: user sessions
-- Bids per bidder per session, a session ending after 10 seconds without a bid.
CREATE STREAM nexmark_q11 AS
SELECT bidder, COUNT(*) AS bid_count, _window_start AS starttime, _window_end AS endtime
FROM bid
GROUP BY bidder
WINDOW SESSION (dateTime, INTERVAL '10' SECOND)
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q11.type' = 'file_sink',
  'nexmark_q11.path' = '${OUTPUT:nexmark_q11.jsonl}'
);
