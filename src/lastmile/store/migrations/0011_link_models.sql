-- The fitted learned link model (lastmile links NETWORK, docs/networks.md "Learned link
-- prediction", "Kept model"): the bag trained on every network of the workspace, kept with
-- the stored analysis so that later calls only score. Derived like the analysis: a rerun of
-- analyze deletes every row in its transaction, and a row is used only when all of its key
-- matches the call's (run_id, seed, params, code, data), else the model is trained again.
--
-- run_id: the analysis_runs row it was trained with; seed: the training seed; params: the
-- bag's parameters as JSON (rounds, hidden share, members, boosting); code: a digest of the
-- feature and training code and the versions of the libraries that compute them; data: a
-- digest of what it was trained on (the graph of all networks, its ties and attributes);
-- format: how model is serialized ('skops 0.16.0'); sha256: the digest of model, checked
-- before it is read; model: the serialized members, reference row and feature names;
-- trained_at, seconds: when and how long the training took. One model per run and seed (the
-- primary key): a second row for the same run and seed would leave which one is read to the
-- order the store returns them.

CREATE TABLE link_models (
    run_id TEXT NOT NULL,
    seed BIGINT NOT NULL,
    params TEXT,
    code TEXT,
    data TEXT,
    format TEXT,
    sha256 TEXT,
    model BYTEA,
    trained_at TIMESTAMP,
    seconds DOUBLE PRECISION,
    lastmile_version TEXT,
    PRIMARY KEY (run_id, seed)
);
