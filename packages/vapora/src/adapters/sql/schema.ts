/** Same DDL on both: TEXT ids, BIGINT epoch milliseconds and micro-cents, JSON as TEXT. */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE projects (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY, project_id TEXT REFERENCES projects(id) ON DELETE CASCADE,
    title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', type TEXT NOT NULL, role TEXT,
    priority INTEGER NOT NULL, status TEXT NOT NULL, payload TEXT NOT NULL, result TEXT, error TEXT,
    agent_id TEXT, assignment_id TEXT, attempt INTEGER NOT NULL DEFAULT 0, dispatched_at BIGINT,
    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT);
  CREATE INDEX tasks_status ON tasks(status, priority);
  CREATE INDEX tasks_project ON tasks(project_id);
  CREATE INDEX tasks_agent ON tasks(agent_id, status);
  CREATE TABLE agents (
    id TEXT PRIMARY KEY, role TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL,
    load DOUBLE PRECISION NOT NULL DEFAULT 0, capacity INTEGER NOT NULL DEFAULT 1, last_heartbeat BIGINT,
    created_at BIGINT NOT NULL);
  CREATE INDEX agents_role ON agents(role);
  CREATE TABLE executions (
    id TEXT PRIMARY KEY, task_id TEXT NOT NULL, agent_id TEXT NOT NULL, role TEXT NOT NULL, task_type TEXT NOT NULL,
    assignment_id TEXT NOT NULL UNIQUE, started_at BIGINT, finished_at BIGINT NOT NULL, duration_ms BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL DEFAULT 0, output_tokens BIGINT NOT NULL DEFAULT 0,
    cost_microcents BIGINT NOT NULL DEFAULT 0, outcome TEXT NOT NULL, error TEXT);
  CREATE INDEX executions_type ON executions(task_type, agent_id);
  CREATE INDEX executions_task ON executions(task_id);
  CREATE TABLE budgets (
    role TEXT PRIMARY KEY, monthly_microcents BIGINT, weekly_microcents BIGINT, on_exceeded TEXT,
    updated_at BIGINT NOT NULL);
  CREATE TABLE budget_spend (
    role TEXT NOT NULL, period TEXT NOT NULL, spent BIGINT NOT NULL DEFAULT 0, reserved BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (role, period));
  CREATE TABLE reservations (
    id TEXT PRIMARY KEY, role TEXT NOT NULL, month_key TEXT NOT NULL, week_key TEXT NOT NULL,
    amount BIGINT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
  CREATE INDEX reservations_role ON reservations(role, expires_at);
  CREATE TABLE cost_records (
    id TEXT PRIMARY KEY, request_id TEXT NOT NULL, task_id TEXT, role TEXT NOT NULL, task_type TEXT NOT NULL,
    provider TEXT NOT NULL, model TEXT NOT NULL, served_model TEXT NOT NULL,
    input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL, cost_microcents BIGINT NOT NULL, price_version TEXT NOT NULL,
    outcome TEXT NOT NULL, fallback_from TEXT, month_key TEXT NOT NULL, week_key TEXT NOT NULL,
    created_at BIGINT NOT NULL);
  CREATE INDEX cost_records_created ON cost_records(created_at);
  CREATE INDEX cost_records_task ON cost_records(task_id);
  CREATE TABLE alerts (
    id TEXT PRIMARY KEY, role TEXT NOT NULL, period TEXT NOT NULL, level TEXT NOT NULL,
    ratio DOUBLE PRECISION NOT NULL, created_at BIGINT NOT NULL);
  `,
  // API tokens (secrets stored as SHA-256), and reservations that know their process: a reservation whose process
  // died is settled at its full amount (marked unsettled), never silently given back.
  `
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, projects TEXT, secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL, expires_at BIGINT, revoked_at BIGINT);
  CREATE TABLE runtimes (
    id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, last_seen BIGINT NOT NULL);
  ALTER TABLE reservations ADD COLUMN owner TEXT NOT NULL DEFAULT '';
  ALTER TABLE reservations ADD COLUMN request_id TEXT;
  ALTER TABLE reservations ADD COLUMN task_id TEXT;
  ALTER TABLE reservations ADD COLUMN task_type TEXT;
  ALTER TABLE reservations ADD COLUMN target TEXT;
  ALTER TABLE cost_records ADD COLUMN reconciled_at BIGINT;
  CREATE INDEX cost_records_outcome ON cost_records(outcome, role);
  `,
  // Approvals (who asked, who decided, when, why) and pipelines (runs and their steps, checkpointed).
  `
  CREATE TABLE approvals (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, task_id TEXT, run_id TEXT, step_id TEXT, role TEXT NOT NULL,
    action TEXT NOT NULL, details TEXT NOT NULL, status TEXT NOT NULL, requested_by TEXT, requested_at BIGINT NOT NULL,
    expires_at BIGINT, decided_by TEXT, decided_at BIGINT, reason TEXT);
  CREATE INDEX approvals_status ON approvals(status, requested_at);
  ALTER TABLE tasks ADD COLUMN run_id TEXT;
  ALTER TABLE tasks ADD COLUMN step_id TEXT;
  ALTER TABLE tasks ADD COLUMN over_budget_approved INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX tasks_run ON tasks(run_id);
  CREATE TABLE pipeline_runs (
    id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, definition TEXT NOT NULL, project_id TEXT, inputs TEXT NOT NULL,
    status TEXT NOT NULL, error TEXT, created_by TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
    finished_at BIGINT);
  CREATE INDEX pipeline_runs_status ON pipeline_runs(status);
  CREATE TABLE pipeline_steps (
    run_id TEXT NOT NULL, step_id TEXT NOT NULL, phase TEXT NOT NULL, status TEXT NOT NULL, task_id TEXT,
    output TEXT, attempts INTEGER NOT NULL DEFAULT 0, error TEXT, started_at BIGINT, finished_at BIGINT,
    PRIMARY KEY (run_id, step_id, phase));
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
