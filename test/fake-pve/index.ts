/** The fake Proxmox VE, for tests, benchmarks and the demo. See README.md here. */
export { startFakePve, ROUTES, BALANCER_PRIVILEGES, CA_FILE, TLS_DIR } from './server.js';
export type { FakePve, FakePveOptions, Fault, FakeToken, RequestLog, RequestRecord } from './server.js';
export { FakeState, PveHttpError, renderBytes } from './state.js';
export type { FakeGuest, FakeNode, FakeTask, FakeStateOptions } from './state.js';
export { loadScenario, readScenario, scenarioState, listScenarios, SCENARIO_DIR } from './scenarios.js';
export type { Scenario, ScenarioGuest, ScenarioNode } from './scenarios.js';
