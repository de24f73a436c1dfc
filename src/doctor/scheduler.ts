import { spawnSync } from 'node:child_process';

/**
 * The scheduler's real state, as systemd has it: is the timer enabled and active, when does it
 * fire next, and how did the service's last tick end. Read with `systemctl show` (systemd's own
 * machine-readable key=value output of the same D-Bus properties; no Node library for the systemd
 * D-Bus API is packaged here), never by guessing from the history.
 */
export const TIMER_UNIT = 'proxmox-balance-automigrate.timer';
export const SERVICE_UNIT = 'proxmox-balance-automigrate.service';

const TIMER_PROPS = ['Id', 'LoadState', 'UnitFileState', 'ActiveState', 'SubState', 'NextElapseUSecRealtime', 'LastTriggerUSec'];
const SERVICE_PROPS = ['Id', 'LoadState', 'ActiveState', 'SubState', 'Result', 'ExecMainStatus', 'ExecMainCode', 'ExecMainStartTimestamp', 'ExecMainExitTimestamp', 'ExecMainPID'];

export interface SchedulerState {
  /** False when this machine has no systemd to ask (a container without it, a developer's machine). */
  systemd: boolean;
  /** One line for people: what was found, or why nothing could be. */
  summary: string;
  timer: {
    installed: boolean;
    /** systemctl is-enabled: enabled, disabled, static, masked… */
    unit_file_state: string;
    enabled: boolean;
    /** active (waiting for its next firing) or inactive (it will not fire). */
    active: boolean;
    next_elapse: string | null;
    last_trigger: string | null;
  } | null;
  service: {
    /** activating while a tick runs. */
    active_state: string;
    /** success, exit-code, signal, timeout…: how the last tick ended. */
    result: string;
    exit_code: number | null;
    last_started: string | null;
    last_exited: string | null;
    pid: number | null;
  } | null;
}

/** A systemctl timestamp: `@1700000000` (--timestamp=unix) or `Mon 2026-11-30 14:05:03 UTC`; null for none. */
export function parseSystemdTime(v: string | undefined): string | null {
  if (!v || v === 'n/a' || v === '0') return null;
  const unix = /^@(\d+)$/.exec(v.trim());
  if (unix) return new Date(Number(unix[1]) * 1000).toISOString();
  const ms = Date.parse(v.replace(/^[A-Za-z]{3} /, '').replace(/ ([A-Z]{2,5})$/, (_, z: string) => (z === 'UTC' ? 'Z' : ` ${z}`)).replace(' ', 'T'));
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** Splits `systemctl show` output of several units (blank-line separated) into key → value maps by Id. */
export function parseShow(text: string): Map<string, Record<string, string>> {
  const units = new Map<string, Record<string, string>>();
  for (const block of text.split(/\n\s*\n/)) {
    const props: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) props[line.slice(0, eq)] = line.slice(eq + 1);
    }
    if (props.Id) units.set(props.Id, props);
  }
  return units;
}

function describe(s: Omit<SchedulerState, 'summary'>): string {
  const t = s.timer!;
  if (!t.installed) return `${TIMER_UNIT} is not installed: no tick runs by itself`;
  const parts = [`timer ${t.enabled ? 'enabled' : t.unit_file_state}, ${t.active ? 'active' : 'inactive'}`];
  parts.push(t.active && t.next_elapse ? `next tick ${t.next_elapse}` : 'no tick scheduled');
  const sv = s.service;
  if (sv?.active_state === 'activating') parts.push(`a tick is running (pid ${sv.pid ?? '?'})`);
  else if (sv?.last_exited) parts.push(`last tick ${sv.result === 'success' ? 'succeeded' : `failed (${sv.result}, exit code ${sv.exit_code ?? '?'})`} at ${sv.last_exited}`);
  else parts.push('the service has not run since boot');
  return parts.join('; ');
}

/** Asks systemd; `env` is the environment systemctl runs in (its PATH). */
export function schedulerState(env: NodeJS.ProcessEnv = process.env): SchedulerState {
  const r = spawnSync('systemctl', ['show', '--timestamp=unix', `--property=${[...new Set([...TIMER_PROPS, ...SERVICE_PROPS])].join(',')}`, TIMER_UNIT, SERVICE_UNIT], { encoding: 'utf8', env, timeout: 10_000 });
  const none = (why: string): SchedulerState => ({ systemd: false, summary: why, timer: null, service: null });
  if (r.error) return none(`no systemd on this machine (systemctl: ${(r.error as NodeJS.ErrnoException).code}): the timer cannot be checked; ticks run only by hand or from cron`);
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout).trim().split('\n')[0] ?? `exit ${r.status}`;
    return none(`no systemd to ask on this machine (${why}): the timer cannot be checked; ticks run only by hand or from cron`);
  }
  const units = parseShow(r.stdout);
  const t = units.get(TIMER_UNIT) ?? {};
  const sv = units.get(SERVICE_UNIT) ?? {};
  const status = Number.parseInt(sv.ExecMainStatus ?? '', 10);
  const pid = Number.parseInt(sv.ExecMainPID ?? '', 10);
  const state: Omit<SchedulerState, 'summary'> = {
    systemd: true,
    timer: {
      installed: t.LoadState === 'loaded', unit_file_state: t.UnitFileState || 'unknown', enabled: t.UnitFileState === 'enabled',
      active: t.ActiveState === 'active', next_elapse: parseSystemdTime(t.NextElapseUSecRealtime), last_trigger: parseSystemdTime(t.LastTriggerUSec),
    },
    service: sv.LoadState === 'loaded' ? {
      active_state: sv.ActiveState ?? 'unknown', result: sv.Result ?? 'unknown', exit_code: Number.isFinite(status) ? status : null,
      last_started: parseSystemdTime(sv.ExecMainStartTimestamp), last_exited: parseSystemdTime(sv.ExecMainExitTimestamp), pid: pid > 0 ? pid : null,
    } : null,
  };
  return { ...state, summary: describe(state) };
}
