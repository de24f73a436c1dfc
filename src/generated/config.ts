/* Generated from schemas/config.schema.json by scripts/gen-types.mjs: do not edit. Run `npm run gen`. */

/**
 * proxbalance configuration (config.json). The layout is ProxBalance's: a ProxBalance config.json loads unchanged. Keys of ProxBalance that proxbalance does not use (web UI, AI, collection settings) are accepted and ignored; keys starting with '_' are comments.
 */
export interface ProxbalanceConfig {
  /**
   * Proxmox VE host name or IP address to talk to, or a list of them: when one does not answer, the next is tried. A name or address only: a scheme (https://), a path or a port in it is a config error (the port is proxmox_port).
   */
  proxmox_host: string | [string, ...string[]];
  /**
   * TCP port of the Proxmox VE API.
   */
  proxmox_port: number;
  /**
   * API token ID, written user@realm!tokenname. Create a privilege-separated token with VM.Audit, VM.Migrate, Sys.Audit and Datastore.Audit on /.
   */
  proxmox_api_token_id: string;
  /**
   * API token secret (a UUID). Prefer proxmox_api_token_secret_file or the PROXBALANCE_TOKEN_SECRET environment variable, which overrides both; an empty string means not set here.
   */
  proxmox_api_token_secret: string;
  /**
   * Path of a file holding the API token secret (for example a systemd credential). A relative path is looked up in $CREDENTIALS_DIRECTORY when systemd sets it. Used when proxmox_api_token_secret is empty. A file readable by everyone is a config error (chown root:proxbalance and chmod 0640: the service reads it through its group).
   */
  proxmox_api_token_secret_file: string;
  /**
   * Verify the API's TLS certificate. Keep true and give proxmox_ca_file or proxmox_fingerprint for a self-signed cluster; false disables every check and is warned about on every run.
   */
  proxmox_verify_ssl: boolean;
  /**
   * PEM file of an extra certificate authority to trust, e.g. a copy of the cluster's /etc/pve/pve-root-ca.pem. A file that cannot be read is a config error, found when the config is loaded.
   */
  proxmox_ca_file: string;
  /**
   * SHA-256 fingerprint of the API's certificate, colon-separated hex as GET /nodes reports it (ssl_fingerprint). When set, that certificate alone is accepted.
   */
  proxmox_fingerprint: string;
  /**
   * Time limit of one API request, in seconds (connecting included).
   */
  proxmox_timeout_seconds: number;
  /**
   * JSON-lines file where every run and migration is recorded (append only).
   */
  history_file: string;
  /**
   * Least severe log level written: error, warn, info or debug. --verbose and --quiet override it.
   */
  log_level: "error" | "warn" | "info" | "debug";
  /**
   * Prometheus textfile to rewrite after each tick (atomically), e.g. /var/lib/prometheus/node-exporter/proxbalance.prom for node_exporter's textfile collector. Empty: none. See docs/monitoring.md.
   */
  metrics_file: string;
  /**
   * HTML report (the dashboard as one self-contained page) to rewrite after each tick, atomically, e.g. /var/lib/proxbalance/report.html. A failure to write it is a warning, never a failed tick. Empty: none. `proxbalance report` writes the same page on demand. See docs/monitoring.md.
   */
  report_file: string;
  /**
   * When a node counts as hot: above any of these averaged figures it sheds load.
   */
  recommendation_thresholds: {
    /**
     * CPU usage in percent above which a node is hot.
     */
    cpu_threshold: number;
    /**
     * Memory usage in percent above which a node is hot.
     */
    mem_threshold: number;
    /**
     * I/O wait in percent above which a node is hot.
     */
    iowait_threshold: number;
  };
  /**
   * The automation: when it runs, what it may move, and the safety rules.
   */
  automated_migrations: {
    /**
     * Master switch. When false, scheduled runs record 'Automation disabled' and do nothing; `proxbalance run --dry-run` still shows what would happen.
     */
    enabled: boolean;
    /**
     * Simulate only: decisions are made and recorded, no migration is started.
     */
    dry_run: boolean;
    /**
     * How often the engine evaluates. The timer fires every minute; `run --scheduled` skips quietly until this much time has passed since the last scheduled run.
     */
    check_interval_minutes: number;
    /**
     * Which planner decides the moves. `greedy`: picks the best single move again and again (fast, not always the fewest moves). `optimal`: solves the placement exactly with the HiGHS solver (every node under the thresholds with the fewest moves, then the fewest GiB, then the most even load) and says whether the plan is proven optimal; falls back to greedy when the solver finds no plan within planner_time_limit_seconds. `auto`: optimal when the solver proves its plan optimal within the time limit, else greedy. See docs/decisions.md, "The exact planner".
     */
    planner: "greedy" | "optimal" | "auto";
    /**
     * All the time the exact planner (planner `optimal` or `auto`) may add to a run, counted from the start of the cluster read: loading the solver, building the model, solving. After it the best plan found so far is used (optimal) or the greedy plan (auto); a solver not loaded by then leaves the run to the greedy planner.
     */
    planner_time_limit_seconds: number;
    /**
     * Nodes to evacuate: every guest on them is moved off (tag rules, cooldown and confidence floor bypassed) and they are never targets.
     */
    maintenance_nodes: string[];
    /**
     * When migrations may happen.
     */
    schedule: {
      /**
       * IANA time zone for windows that name none.
       */
      timezone: string;
      /**
       * When at least one enabled window is defined, migrations happen only while one is open. None: at any time.
       */
      migration_windows: TimeWindow[];
      /**
       * Migrations never happen while one of these is open; blackouts beat migration windows.
       */
      blackout_windows: TimeWindow[];
    };
    /**
     * What may move and how much per run.
     */
    rules: {
      /**
       * Moves below this confidence (0-100) are not made.
       */
      min_confidence_score: number;
      /**
       * At most this many migrations are started in one run.
       */
      max_migrations_per_run: number;
      /**
       * At most this many migrations run in the cluster at once; migrations already running (started by anyone) count.
       */
      max_concurrent_migrations: number;
      /**
       * A guest migrated within this many minutes is not moved again. Guests moved repeatedly within 7 days wait 2, 4, then 8 times as long.
       */
      cooldown_minutes: number;
      /**
       * Never move guests tagged 'ignore' (except off a maintenance node).
       */
      respect_ignore_tags: boolean;
      /**
       * Guests sharing an exclude_<group> tag are kept on different nodes (anti-affinity).
       */
      respect_exclude_tags: boolean;
      /**
       * Whitelist mode: only guests tagged 'auto-migrate-ok' are moved (except off a maintenance node).
       */
      require_auto_migrate_ok_tag: boolean;
      /**
       * A migration still running after this long is recorded as timed out; Proxmox keeps running it and a later run records its outcome.
       */
      migration_timeout_minutes: number;
    };
    /**
     * Checks before every migration.
     */
    safety_checks: {
      /**
       * Make no migration unless the cluster is healthy (every node's state known, quorum when require_quorum).
       */
      check_cluster_health: boolean;
      /**
       * Make no migration unless the cluster is quorate.
       */
      require_quorum: boolean;
      /**
       * Never plan a move that leaves its target above this memory use, counting the guest's full configured memory.
       */
      max_node_memory_percent: number;
      /**
       * Never plan a move that leaves its target above this CPU use.
       */
      max_node_cpu_percent: number;
      /**
       * After a failed migration, start nothing more and halt automation until `proxbalance resume`.
       */
      abort_on_failure: boolean;
    };
    /**
     * Who is told, and of what. Events: start (a tick about to migrate; never for ticks that decide nothing), complete (after a tick that migrated), failure (a safety gate blocked a tick that wanted to move, a migration failed, and always a halt, announced once). Delivery never blocks or fails a tick: each provider gets 10 s, failures are logged and recorded in the history.
     */
    notifications: {
      /**
       * Master switch for notifications.
       */
      enabled: boolean;
      /**
       * Tell when a tick is about to migrate (planned moves > 0).
       */
      on_start: boolean;
      /**
       * Tell after a tick that migrated: counts, each guest's move, durations, failures.
       */
      on_complete: boolean;
      /**
       * Tell when a safety gate (quorum, health) blocks a tick that wanted to move, and when a migration fails. A halt is announced even when this is false.
       */
      on_failure: boolean;
      /**
       * Where to send; each provider has its own enabled switch.
       */
      providers: {
        /**
         * Generic webhook: an HTTP POST of the JSON body {title, message, priority, timestamp, source}.
         */
        webhook: {
          /**
           * Send to this webhook.
           */
          enabled: boolean;
          /**
           * URL to POST to. Treated as a secret (shown masked): such URLs often carry a token.
           */
          url: string;
          /**
           * Extra HTTP headers, e.g. {"Authorization": "Bearer …"}. Values are secrets: masked by `config show`, never logged.
           */
          headers: {
            [k: string]: string | undefined;
          };
        };
        /**
         * E-mail over SMTP (plain text and HTML).
         */
        email: {
          /**
           * Send e-mail.
           */
          enabled: boolean;
          /**
           * SMTP server host name or IP address.
           */
          smtp_host: string;
          /**
           * SMTP port: 587 (submission, STARTTLS), 25, or 465 (TLS from the first byte).
           */
          smtp_port: number;
          /**
           * SMTP user name; empty: no authentication.
           */
          smtp_username: string;
          /**
           * SMTP password.
           */
          smtp_password: string;
          /**
           * Require STARTTLS (the message is never sent in clear; the server's certificate is verified). false: no STARTTLS. Port 465 always uses TLS.
           */
          smtp_tls: boolean;
          /**
           * PEM file of an extra certificate authority to trust for the SMTP server's certificate (an internal mail relay). Not one of ProxBalance's keys.
           */
          smtp_ca_file: string;
          /**
           * Sender address.
           */
          from_address: string;
          /**
           * Recipients: a list, or one comma-separated string as ProxBalance also accepts.
           */
          to_addresses: string[] | string;
        };
        /**
         * Slack incoming webhook.
         */
        slack: {
          /**
           * Send to the Slack incoming webhook.
           */
          enabled: boolean;
          /**
           * The Slack incoming webhook URL (a secret: masked by `config show`).
           */
          webhook_url: string;
        };
        /**
         * Discord webhook.
         */
        discord: {
          /**
           * Send to the Discord webhook.
           */
          enabled: boolean;
          /**
           * The Discord webhook URL (a secret: masked by `config show`).
           */
          webhook_url: string;
        };
        /**
         * Telegram bot message (Bot API sendMessage).
         */
        telegram: {
          /**
           * Send Telegram messages.
           */
          enabled: boolean;
          /**
           * Bot token from @BotFather.
           */
          bot_token: string;
          /**
           * Chat to send to: its numeric ID or @channelname.
           */
          chat_id: string | number;
          /**
           * Base URL of the Bot API. Not one of ProxBalance's keys; change it only for a local Bot API server or tests.
           */
          api_url: string;
        };
        /**
         * Pushover push notification. Emergency messages (a halt) repeat every 60 s for up to an hour until acknowledged.
         */
        pushover: {
          /**
           * Send Pushover notifications.
           */
          enabled: boolean;
          /**
           * Application API token.
           */
          api_token: string;
          /**
           * User or group key.
           */
          user_key: string;
          /**
           * Pushover priority of ordinary messages (-2 lowest … 2 emergency); high-priority events use at least 1, a halt 2.
           */
          priority: number;
          /**
           * Notification sound name.
           */
          sound: string;
          /**
           * Send to this device only; empty: all of the user's devices.
           */
          device: string;
          /**
           * Base URL of the Pushover API. Not one of ProxBalance's keys; change it only for tests.
           */
          api_url: string;
        };
        /**
         * Gotify server message (POST /message), as many Proxmox installations already use for Proxmox's own notifications.
         */
        gotify: {
          /**
           * Send Gotify messages.
           */
          enabled: boolean;
          /**
           * Base URL of the Gotify server, e.g. https://gotify.example.com.
           */
          url: string;
          /**
           * Application token (sent in the X-Gotify-Key header).
           */
          app_token: string;
          /**
           * Gotify priority of ordinary messages (0-10); high-priority events use at least 8, a halt 10.
           */
          priority: number;
        };
      };
    };
  };
  /**
   * Evens out guest counts across nodes by moving small guests, independent of load.
   */
  distribution_balancing: {
    /**
     * Turn distribution balancing on.
     */
    enabled: boolean;
    /**
     * Acts when the largest and smallest running-guest counts of nodes differ by more than this.
     */
    guest_count_threshold: number;
    /**
     * Only guests with at most this many cores are moved (0 = no limit).
     */
    max_cpu_cores: number;
    /**
     * Only guests with at most this much memory in GiB are moved (0 = no limit).
     */
    max_memory_gb: number;
  };
}
/**
 * A weekly time window. A window that crosses midnight (22:00 to 06:00) belongs to the day it starts.
 */
export interface TimeWindow {
  /**
   * Name shown in logs and status.
   */
  name: string;
  /**
   * A disabled window is ignored.
   */
  enabled: boolean;
  /**
   * Days on which the window starts, lower-case full English names.
   *
   * @minItems 1
   */
  days: [
    "monday" | "tuesday" | "wednesday" | "thursday" | "friday" | "saturday" | "sunday",
    ...("monday" | "tuesday" | "wednesday" | "thursday" | "friday" | "saturday" | "sunday")[]
  ];
  /**
   * Opening time, HH:MM (24 h), inclusive.
   */
  start_time: string;
  /**
   * Closing time, HH:MM (24 h), exclusive. Earlier than start_time: the window crosses midnight.
   */
  end_time: string;
  /**
   * IANA time zone of this window; schedule.timezone when absent.
   */
  timezone?: string;
}
