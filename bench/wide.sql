-- bench/wide.sql - the wide table of the bench (bench/run.sh): 21 columns of every kind of type
-- sluice checks in C, CHECK constraints of the forms it compiles, a composite primary key.
-- Rows come from bench/wide.pl.
CREATE TYPE wide_mood AS ENUM ('calm', 'busy', 'wild');
CREATE DOMAIN wide_pct AS numeric(5,2) CHECK (VALUE BETWEEN 0 AND 100);
CREATE TABLE wide (
    site    varchar(8)       NOT NULL,
    seq     bigint           NOT NULL,
    small   smallint         CHECK (small <> 0),
    n       integer          NOT NULL CHECK (n BETWEEN 1 AND 1000),
    amount  numeric(10,2)    CHECK (amount > 0),
    ratio   real,
    weight  double precision CHECK (weight IS NULL OR weight > 0),
    flag    boolean          NOT NULL,
    uid     uuid             NOT NULL,
    day     date             CHECK (day >= '2020-01-01'),
    at      time,
    ts      timestamp,
    tstz    timestamptz      NOT NULL,
    label   text             CHECK (char_length(label) <= 40),
    name    varchar(32),
    code    char(3)          CHECK (length(code) = 3),
    kind    text             CHECK (kind IN ('view', 'cart', 'purchase')),
    doc     json,
    docb    jsonb,
    mood    wide_mood,
    pct     wide_pct,
    PRIMARY KEY (site, seq)
);
