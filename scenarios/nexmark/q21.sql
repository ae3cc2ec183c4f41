-- @name: nexmark_q21
-- @description: Nexmark Q21: add channel id
-- Bids with a channel_id: 0 to 3 for the channels Apple, Google, Facebook and Baidu, else the
-- channel_id parameter of the url; bids with neither are dropped. Nexmark's
-- REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2) is written with built-ins in the derived
-- table: the text after the url's first '&channel_id=' (or a leading 'channel_id='), up to the
-- next '&', and NULL when the url has neither.
CREATE STREAM nexmark_q21 AS
SELECT auction, bidder, price, channel,
       CASE
         WHEN LOWER(channel) = 'apple' THEN '0'
         WHEN LOWER(channel) = 'google' THEN '1'
         WHEN LOWER(channel) = 'facebook' THEN '2'
         WHEN LOWER(channel) = 'baidu' THEN '3'
         ELSE url_channel_id
       END AS channel_id
FROM (
  SELECT auction, bidder, price, channel,
         CASE
           WHEN LEFT(url, 11) = 'channel_id=' THEN SPLIT_PART(SUBSTRING(url, 12), '&', 1)
           WHEN POSITION('&channel_id=' IN url) > 0 THEN SPLIT_PART(SPLIT_PART(url, '&channel_id=', 2), '&', 1)
         END AS url_channel_id
  FROM bid
) AS B
WHERE url_channel_id IS NOT NULL OR LOWER(channel) IN ('apple', 'google', 'facebook', 'baidu')
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q21.type' = 'file_sink',
  'nexmark_q21.path' = '${OUTPUT:nexmark_q21.jsonl}'
);
