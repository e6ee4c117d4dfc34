// BrokerAccess for Mosquitto: chipwatch logs in as the dynamic-security plugin's admin and sends it commands
// (src/broker/dynsec-client.ts). On connect it denies by default and (re)writes the chipwatch-service role; a grant (re)creates the sender's role and client
// (username = client id = the sender's id, so no tracker can connect under chipwatch's client ids), and a revoke
// deletes both, which disconnects the sender at once. The plugin saves every change to its JSON file itself.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import type { Config } from '../config.ts';
import { isId } from '../domain/ids.ts';
import type { SenderKind } from '../domain/messages.ts';
import type { BrokerAccess } from './access.ts';
import {
  DEFAULT_ACL_ACCESS,
  kindOfRole,
  SERVICE_ROLE,
  senderAcls,
  senderRole,
  serviceAcls,
} from './dynsec-acl.ts';
import {
  accepted,
  DynsecClient,
  type DynsecCommand,
  DynsecError,
  type DynsecLogin,
  type DynsecResponse,
} from './dynsec-client.ts';

export { DynsecError } from './dynsec-client.ts';

/** The plugin's admin login (the client `mosquitto_ctrl dynsec init` creates), and what chipwatch's topics are. */
export interface DynsecOptions extends DynsecLogin {
  topicPrefix: string;
  /** Usernames and client ids of chipwatch's own clients: no tracker or site may be granted one of them. */
  reservedIds?: string[];
}

/** The admin credentials from MQTT_DYNSEC_ADMIN_*; undefined when chipwatch is not to drive dynsec. */
export function dynsecAdminFromConfig(
  config: Pick<
    Config,
    'MQTT_DYNSEC_ADMIN_USERNAME' | 'MQTT_DYNSEC_ADMIN_PASSWORD' | 'MQTT_DYNSEC_ADMIN_PASSWORD_FILE'
  >,
): { username: string; password: string } | undefined {
  const username = config.MQTT_DYNSEC_ADMIN_USERNAME;
  if (!username) return undefined;
  const file = config.MQTT_DYNSEC_ADMIN_PASSWORD_FILE;
  const password =
    config.MQTT_DYNSEC_ADMIN_PASSWORD ?? (file ? readFileSync(file, 'utf8').trim() : undefined);
  if (!password) {
    throw new Error(
      'MQTT_DYNSEC_ADMIN_USERNAME is set: set MQTT_DYNSEC_ADMIN_PASSWORD or MQTT_DYNSEC_ADMIN_PASSWORD_FILE',
    );
  }
  return { username, password };
}

export class DynsecAccess implements BrokerAccess {
  private constructor(
    private readonly api: DynsecClient,
    private readonly o: DynsecOptions,
  ) {}

  /** Logs in as the admin, then denies by default and writes the chipwatch-service role. */
  static async connect(o: DynsecOptions): Promise<DynsecAccess> {
    const access = new DynsecAccess(await DynsecClient.connect(o), o);
    try {
      await access.ensureBase();
    } catch (err) {
      await access.close();
      throw err;
    }
    return access;
  }

  /** Runs dynsec commands as the admin (DynsecClient.run). */
  run(commands: DynsecCommand[], tolerate?: Record<string, string[]>): Promise<DynsecResponse[]> {
    return this.api.run(commands, tolerate);
  }

  /** Creates a role, or rewrites its ACLs when it exists (so a changed prefix or rule reaches old roles too). */
  private roleCommands(rolename: string, acls: object[], textname: string): DynsecCommand[] {
    return [
      { command: 'createRole', rolename, textname, acls },
      { command: 'modifyRole', rolename, textname, acls },
    ];
  }

  private async ensureBase(): Promise<void> {
    await this.run(
      [
        { command: 'setDefaultACLAccess', acls: DEFAULT_ACL_ACCESS },
        ...this.roleCommands(
          SERVICE_ROLE,
          serviceAcls(this.o.topicPrefix),
          'chipwatch ingest, acks and alerts',
        ),
      ],
      { createRole: ['Role already exists'] },
    );
  }

  private refuseReserved(id: string): void {
    const reserved = [this.o.username, ...(this.o.reservedIds ?? [])];
    if (!isId(id) || reserved.includes(id)) {
      throw new DynsecError(
        `grant(${id})`,
        'not a sender id, or one of chipwatch’s own usernames or client ids',
      );
    }
  }

  async grant(kind: SenderKind, id: string, password: string): Promise<void> {
    this.refuseReserved(id);
    // One dynsec client per username: a device and a site with the same id cannot both have one.
    const [found] = await this.run([{ command: 'getClient', username: id }], {
      getClient: ['Client not found'],
    });
    const roles = ((found?.data as { client?: { roles?: { rolename: string }[] } })?.client?.roles ?? []).map(
      (r) => r.rolename,
    );
    const other = roles.find(
      (r) => r === SERVICE_ROLE || (kindOfRole(r) !== undefined && kindOfRole(r) !== kind),
    );
    if (other || (found && !found.error && roles.length === 0)) {
      throw new DynsecError(
        `grant(${id})`,
        `username ${id} is already taken by another client (${other ?? 'no role'})`,
      );
    }
    const rolename = senderRole(kind, id);
    await this.run(
      [
        // Delete first: a new password ends every session opened with the old one.
        { command: 'deleteClient', username: id },
        ...this.roleCommands(rolename, senderAcls(this.o.topicPrefix, kind, id), `chipwatch ${kind} ${id}`),
        {
          command: 'createClient',
          username: id,
          password,
          clientid: id,
          textname: `chipwatch ${kind} ${id}`,
          roles: [{ rolename }],
        },
      ],
      { deleteClient: ['Client not found'], createRole: ['Role already exists'] },
    );
  }

  async revoke(kind: SenderKind, id: string): Promise<void> {
    if (!isId(id)) return;
    // Deleting the client disconnects every session using it; the role goes with it.
    await this.run(
      [
        { command: 'deleteClient', username: id },
        { command: 'deleteRole', rolename: senderRole(kind, id) },
      ],
      { deleteClient: ['Client not found'], deleteRole: ['Role not found'] },
    );
  }

  /**
   * Creates chipwatch's own client holding the chipwatch-service role, or brings an existing one to that role and
   * password. Dynsec disconnects every session of a client it modifies, so an existing client is modified only when
   * its role or password is wrong: a second chipwatch starting must not knock the first one's ingest off the broker.
   */
  async provisionService(username: string, password: string): Promise<void> {
    const roles = [{ rolename: SERVICE_ROLE }];
    const [created] = await this.run(
      [{ command: 'createClient', username, password, textname: 'chipwatch service', roles }],
      { createClient: ['Client already exists'] },
    );
    if (!created?.error) return;
    const [got] = await this.run([{ command: 'getClient', username }]);
    const has = (got?.data as { client?: { roles?: { rolename: string }[] } })?.client?.roles ?? [];
    const rightRole = has.length === 1 && has[0]?.rolename === SERVICE_ROLE;
    if (rightRole && (await this.canLogIn(username, password))) return;
    await this.run([{ command: 'modifyClient', username, password, roles }]);
  }

  /** Whether the broker accepts this username and password (a throwaway clean session). */
  private async canLogIn(username: string, password: string): Promise<boolean> {
    const probe = mqtt.connect(this.o.url, {
      username,
      password,
      clientId: `chipwatch-probe-${randomBytes(4).toString('hex')}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: this.o.timeoutMs ?? 10_000,
    });
    const { ok } = await accepted(probe);
    await probe.endAsync(true);
    return ok;
  }

  close(): Promise<void> {
    return this.api.close();
  }
}

/**
 * Makes sure chipwatch's service user exists with this password and only the chipwatch-service role, through a
 * short admin session: what the ingest, the dispatcher and chipwatch's tools then connect as.
 */
export async function provisionServiceUser(
  admin: DynsecOptions,
  service: { username: string; password: string },
): Promise<void> {
  const access = await DynsecAccess.connect(admin);
  try {
    await access.provisionService(service.username, service.password);
  } finally {
    await access.close();
  }
}
