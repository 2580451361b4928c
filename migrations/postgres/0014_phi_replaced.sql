-- What de-identification put into each trace: the distinct replacement texts (tokens, or the
-- realistic stand-ins of the `surrogates` policy, which nothing else tells from real values), so
-- the trace view can mark them and `aegis phi audit` does not take them for new finds.
ALTER TABLE traces ADD COLUMN phi_replaced TEXT NOT NULL DEFAULT '[]';
