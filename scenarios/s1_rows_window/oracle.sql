SELECT symbol, price, timestamp,
       AVG(price) OVER w AS avg_100, MIN(price) OVER w AS low_100, MAX(price) OVER w AS high_100
FROM market_data
WINDOW w AS (PARTITION BY symbol ORDER BY timestamp, rowid ROWS BETWEEN 99 PRECEDING AND CURRENT ROW)
