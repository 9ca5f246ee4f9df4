// Types of cluster.mjs, for test/support/artemis.ts and the cluster tests.
export declare const ARTEMIS_VERSION: string
export declare const ROOT: string
export declare const NODE_COUNT: number
export declare function nodePorts(n: number): { offset: number; mqtt: number; core: number }
export declare function mqttUrls(): string[]
export declare function ensureDistribution(o?: { log?: (line: string) => void }): void
export declare function runningPid(n: number): number | undefined
export declare function portAnswers(port: number, host?: string, timeoutMs?: number): Promise<boolean>
/** Starts the nodes not running (reusing the others); resolves with every node's MQTT URL. */
export declare function startCluster(o?: { log?: (line: string) => void; timeoutMs?: number }): Promise<string[]>
export declare function stopNode(n: number): Promise<boolean>
export declare function stopCluster(o?: { log?: (line: string) => void }): Promise<void>
