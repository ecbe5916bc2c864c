import { rawRedisCommand, startRedisProcess, waitForPing, type RedisProcess } from './redis-process.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Seed nodes of a three-master Redis Cluster (REDIS_CLUSTER_NODES, or one started for the run). */
    redisClusterNodes: Array<{ host: string; port: number }>;
    /** How long the global setup took to have the cluster ready (0 when REDIS_CLUSTER_NODES named one). */
    redisClusterStartupMs: number;
  }
}

export interface ClusterNode {
  host: string;
  port: number;
}

export interface TestRedisCluster {
  nodes: ClusterNode[];
  /** Milliseconds from the call to a cluster answering cluster_state:ok everywhere (0 for a given one). */
  startupMs: number;
  stop(): Promise<void>;
}

const HOW_TO_FIX =
  'Install redis-server (Debian: apt-get install redis-server, or run .ci/run), or point the tests at a ' +
  'running cluster with REDIS_CLUSTER_NODES=host:port,host:port,host:port.';

/**
 * The Redis Cluster of the test run: the one named by REDIS_CLUSTER_NODES (`host:port,...`), or three
 * private masters on free loopback ports joined into one cluster (slots split in three, no replicas). Never skips: if the
 * cluster cannot be had, the run fails with a message that says how to fix it.
 */
export async function startTestRedisCluster(
  env: Record<string, string | undefined> = process.env,
  givenReadyWithinMs = 5_000,
): Promise<TestRedisCluster> {
  const given = env.REDIS_CLUSTER_NODES;
  if (given !== undefined && given !== '') {
    const nodes = parseNodes(given);
    await waitForClusterOk(nodes, givenReadyWithinMs).catch((error: Error) => {
      throw new Error(`REDIS_CLUSTER_NODES=${given}: ${error.message}. ${HOW_TO_FIX}`);
    });
    return { nodes, startupMs: 0, stop: async () => {} };
  }

  const began = performance.now();
  const started: RedisProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((p) => p.remove()));
  };
  try {
    const processes = await Promise.all(
      [0, 1, 2].map(() =>
        // A short node timeout also shortens the "rejoin delay" a master may serve after seeing itself in a
        // minority while the nodes meet: with 5 s the cluster sometimes took 4 s to be ok, with 1 s it takes ~2 s.
        startRedisProcess({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000'] }),
      ),
    );
    started.push(...processes);
    const nodes = processes.map((p) => ({ host: '127.0.0.1', port: p.port }));
    await createCluster(nodes);
    await waitForClusterOk(nodes, 10_000);
    return { nodes, startupMs: Math.round(performance.now() - began), stop };
  } catch (error) {
    await stop();
    throw new Error(`could not start a local three-master Redis Cluster: ${(error as Error).message}. ${HOW_TO_FIX}`);
  }
}

function parseNodes(text: string): ClusterNode[] {
  return text.split(',').map((part) => {
    const match = /^\s*([^\s:]+|\[[^\]]+\]):(\d+)\s*$/.exec(part);
    if (match === null) throw new Error(`REDIS_CLUSTER_NODES: expected host:port[,host:port...], got ${JSON.stringify(part)}`);
    return { host: match[1] as string, port: Number(match[2]) };
  });
}

/**
 * What `redis-cli --cluster create <nodes> --cluster-replicas 0 --cluster-yes` does, without its fixed
 * one-second sleeps (they would put the start-up over 3 s): split the 16384 slots into three ranges, give
 * each master its own config epoch, and MEET them all. Redis itself still waits ~2 s after start-up
 * before a master reports cluster_state:ok.
 */
async function createCluster(nodes: ClusterNode[]): Promise<void> {
  const command = async (node: ClusterNode, text: string): Promise<void> => {
    const reply = await rawRedisCommand(node.host, node.port, text);
    if (!reply.startsWith('+OK')) throw new Error(`${node.host}:${node.port} ${text}: ${reply.trim()}`);
  };
  const per = Math.floor(16384 / nodes.length);
  await Promise.all(
    nodes.map(async (node, i) => {
      const last = i === nodes.length - 1 ? 16383 : (i + 1) * per - 1;
      await command(node, `CLUSTER ADDSLOTSRANGE ${i * per} ${last}`);
      await command(node, `CLUSTER SET-CONFIG-EPOCH ${i + 1}`);
    }),
  );
  const [first, ...others] = nodes as [ClusterNode, ...ClusterNode[]];
  for (const node of others) await command(first, `CLUSTER MEET ${node.host} ${node.port}`);
}

/** Every node answers and reports cluster_state:ok with all slots assigned. */
async function waitForClusterOk(nodes: ClusterNode[], withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (const node of nodes) await waitForPing(node.host, node.port, withinMs);
  for (;;) {
    const infos = await Promise.all(nodes.map((n) => rawRedisCommand(n.host, n.port, 'CLUSTER INFO').catch((e: Error) => e.message)));
    if (infos.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_slots_assigned:16384'))) return;
    if (Date.now() > deadline) {
      const states = infos.map(
        (info, i) => `${nodes[i]?.host}:${nodes[i]?.port} ${/cluster_state:\w+/.exec(info)?.[0] ?? info.trim().slice(0, 60)}`,
      );
      throw new Error(`the cluster is not ok within ${withinMs} ms (${states.join(', ')})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
