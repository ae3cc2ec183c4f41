SELECT symbol, COUNT(*), SUM(quantity), AVG(CAST(price AS DECIMAL(12, 4))), MIN(CAST(price AS DECIMAL(12, 4))),
       MAX(CAST(price AS DECIMAL(12, 4))) FROM trades GROUP BY symbol
