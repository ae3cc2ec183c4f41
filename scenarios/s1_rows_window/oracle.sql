SELECT symbol, price, timestamp,
       AVG(price) OVER w, MIN(price) OVER w, MAX(price) OVER w
FROM market_data
WINDOW w AS (PARTITION BY symbol ORDER BY rowid ROWS BETWEEN 99 PRECEDING AND CURRENT ROW)
