-- @name: nexmark_q12
-- @description: Nexmark Q12: processing time windows
-- Bids per bidder in 10-second tumbling windows of processing time: the bid source declares no
-- event-time field, so _event_time is the time each record was read (Nexmark: PROCTIME()).
CREATE STREAM nexmark_q12 AS
SELECT bidder, COUNT(*) AS bid_count, _window_start AS starttime, _window_end AS endtime
FROM bid
GROUP BY bidder
WINDOW TUMBLING (_event_time, INTERVAL '10' SECOND)
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'nexmark_q12.type' = 'file_sink',
  'nexmark_q12.path' = '${OUTPUT:nexmark_q12.jsonl}'
);
