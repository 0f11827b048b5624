// What the plan reads from a node's config: the guest port sshd listens on (where the lab's SSH
// forward goes) and who applies the config. The article's cloud-config and Ignition JSON, spec 3.x,
// drop-ins, no sshd.socket, IPv6 and garbage.
import test from 'ava';
import { guestSshPort, listenPort, nodeAgent } from '../lab/guestconfig/nodeconfig.js';
import { loadPlan } from '../lab/run/plan.js';
import { tempTree } from './helpers/files.js';

// The article's first cloud-config, as written (10.11.12.13 and all).
const ARTICLE_CLOUD_CONFIG = `#cloud-config

# Set hostname
hostname: "node01"

# Set ntp servers
write_files:
    - path: /etc/systemd/timesyncd.conf
      content: |
        [Time]
        NTP=0.ru.pool.ntp.org 1.ru.pool.ntp.org

coreos:
    units:
    # Configure static network on eth0 interface
    - name: iface-eth0.network
      runtime: true
      content: |
        [Match]
        Name=eth0

        [Network]
        DNS=188.93.16.19
        DNS=188.93.17.19
        DNS=109.234.159.91
        Address=10.11.12.13/24
        Gateway=10.11.12.1

    # Change standard SSH port
    - name: sshd.socket
      command: restart
      runtime: true
      content: |
        [Socket]
        ListenStream=2345
        FreeBind=true
        Accept=yes
`;

// The article's Ignition JSON (spec 2.0.0), its systemd part as written.
const ARTICLE_IGNITION = JSON.stringify({
  ignition: { version: '2.0.0' },
  storage: { files: [{ filesystem: 'root', path: '/etc/hostname', mode: 420, contents: { source: 'data:,node01' } }] },
  networkd: { units: [{ name: 'iface-eth0.network', contents: '[Match]\nName=eth0\n\n[Network]\nAddress=10.11.12.13/24\nGateway=10.11.12.1' }] },
  systemd: { units: [{ name: 'sshd.socket', command: 'restart', runtime: true, contents: '[Socket]\nListenStream=2345\nFreeBind=true\nAccept=yes' }] },
});

const ign = (version: string, units: unknown[]) => JSON.stringify({ ignition: { version }, systemd: { units } });
const cc = (socket: string) => `#cloud-config\ncoreos:\n  units:\n    - name: sshd.socket\n      command: restart\n      content: |\n${socket.split('\n').map((l) => `        ${l}`).join('\n')}\n`;

test('the article\'s cloud-config moves SSH to 2345', (t) => {
  t.is(guestSshPort(ARTICLE_CLOUD_CONFIG, 'cloud-init'), 2345);
  t.is(guestSshPort(ARTICLE_CLOUD_CONFIG, 'coreos-cloudinit'), 2345);
});

test('the article\'s Ignition JSON (spec 2.0.0) moves SSH to 2345', (t) => {
  t.is(guestSshPort(ARTICLE_IGNITION, 'ignition'), 2345);
});

test('Ignition 3.x: contents, then the drop-ins in order; an empty ListenStream= clears the earlier ones', (t) => {
  t.is(guestSshPort(ign('3.3.0', [{ name: 'sshd.socket', enabled: true, contents: '[Socket]\nListenStream=2345\nAccept=yes\n' }]), 'ignition'), 2345);
  const dropins = [{ name: '10-port.conf', contents: '[Socket]\nListenStream=\nListenStream=2222\n' }];
  t.is(guestSshPort(ign('3.3.0', [{ name: 'sshd.socket', dropins }]), 'ignition'), 2222);
  t.is(guestSshPort(ign('2.3.0', [{ name: 'sshd.socket', contents: '[Socket]\nListenStream=2345\n', dropins }]), 'ignition'), 2222);
  t.is(guestSshPort(ign('3.3.0', [{ name: 'sshd.socket', dropins: [{ name: 'x.conf', contents: '[Socket]\nListenStream=\n' }] }]), 'ignition'), 22, 'cleared, nothing after: the default');
});

test('a cloud-config unit\'s drop-ins count after its content, spelled drop-ins or drop_ins', (t) => {
  const withDrop = (key: string) => `#cloud-config\ncoreos:\n  units:\n    - name: sshd.socket\n      ${key}:\n        - name: 10-port.conf\n          content: |\n            [Socket]\n            ListenStream=\n            ListenStream=2200\n`;
  t.is(guestSshPort(withDrop('drop-ins'), 'cloud-init'), 2200);
  t.is(guestSshPort(withDrop('drop_ins'), 'coreos-cloudinit'), 2200);
});

test('no sshd.socket: 22', (t) => {
  t.is(guestSshPort('#cloud-config\nhostname: node01\n', 'cloud-init'), 22);
  t.is(guestSshPort('#cloud-config\ncoreos:\n  units:\n    - name: etcd2.service\n      command: start\n', 'cloud-init'), 22);
  t.is(guestSshPort(cc('[Socket]\nListenStream=2345').replace('sshd.socket', 'ssh.socket'), 'cloud-init'), 22, 'another unit\'s ListenStream');
  t.is(guestSshPort('#cloud-config\ncoreos:\n  units:\n    - name: sshd.socket\n      command: restart\n', 'cloud-init'), 22, 'restarted, no content');
  t.is(guestSshPort(ign('3.3.0', [{ name: 'docker.socket', contents: '[Socket]\nListenStream=2375' }]), 'ignition'), 22);
  t.is(guestSshPort(JSON.stringify({ ignition: { version: '3.3.0' } }), 'ignition'), 22);
  t.is(guestSshPort('', 'cloud-init'), 22);
});

test('ListenStream= forms: PORT, IPv4:PORT, [IPv6]:PORT; the last TCP one wins', (t) => {
  t.is(guestSshPort(cc('[Socket]\nListenStream=[::]:2345'), 'cloud-init'), 2345);
  t.is(guestSshPort(cc('[Socket]\nListenStream=0.0.0.0:2345'), 'cloud-init'), 2345);
  t.is(guestSshPort(cc('[Socket]\nListenStream = 192.168.0.10:2022'), 'cloud-init'), 2022);
  t.is(guestSshPort(cc('[Socket]\nListenStream=[fe80::1%eth0]:2345'), 'cloud-init'), 2345);
  t.is(guestSshPort(cc('[Socket]\nListenStream=22\nListenStream=2345'), 'cloud-init'), 2345);
  t.is(guestSshPort(cc('[Socket]\nListenStream=2345\nListenStream=/run/sshd.sock'), 'cloud-init'), 2345, 'a unix socket is passed over');
});

test('garbage is passed over, and a config that does not parse gives 22', (t) => {
  for (const v of ['abc', '0', '70000', '-1', '2345x', '::2345', 'vsock:2:2345', '@abstract', '1.2.3.4:', '[::]']) {
    t.is(guestSshPort(cc(`[Socket]\nListenStream=${v}`), 'cloud-init'), 22, v);
    t.is(guestSshPort(cc(`[Socket]\nListenStream=2345\nListenStream=${v}`), 'cloud-init'), 2345, `2345 then ${v}`);
  }
  t.is(guestSshPort(cc('[Service]\nListenStream=2345'), 'cloud-init'), 22, 'outside [Socket]');
  t.is(guestSshPort(cc('[Socket]\n# ListenStream=2345\n;ListenStream=2346'), 'cloud-init'), 22, 'comments');
  t.is(guestSshPort('#cloud-config\ncoreos: [unclosed\n', 'cloud-init'), 22, 'not YAML');
  t.is(guestSshPort('#cloud-config\ncoreos:\n  units: sshd.socket\n', 'cloud-init'), 22, 'units not a list');
  t.is(guestSshPort('#cloud-config\ncoreos:\n  units:\n    - name: sshd.socket\n      content: 2345\n', 'cloud-init'), 22, 'content not text');
  t.is(guestSshPort('{ "ignition": { "version": "2.0.0" }, "systemd": ', 'ignition'), 22, 'not JSON');
  t.is(guestSshPort(JSON.stringify({ ignition: { version: '3.3.0' }, systemd: { units: [null, 7, { name: 'sshd.socket', contents: 2345 }] } }), 'ignition'), 22);
  t.is(guestSshPort(JSON.stringify({ ignition: { version: '3.3.0' }, systemd: { units: 'sshd.socket' } }), 'ignition'), 22);
});

test('RancherOS does not read coreos.units: 22 whatever the config says', (t) => {
  t.is(guestSshPort(ARTICLE_CLOUD_CONFIG, 'rancheros'), 22);
});

test('listenPort keeps what earlier files left unless this one sets or clears it', (t) => {
  t.is(listenPort('[Socket]\nAccept=yes\n', 2345), 2345);
  t.is(listenPort('[Socket]\r\nListenStream=2022\r\n', 2345), 2022, 'CRLF');
  t.is(listenPort('[Socket]\nListenStream=\n', 2345), undefined);
  t.is(listenPort('[Unit]\nDescription=x\n'), undefined);
});

test('who applies the config: Ignition for an Ignition JSON, else the image\'s agent', (t) => {
  t.is(nodeAgent({ agent: 'cloud-init' }, ARTICLE_IGNITION), 'ignition');
  t.is(nodeAgent({ agent: 'coreos-cloudinit' }, `  \n${ARTICLE_IGNITION}`), 'ignition');
  t.is(nodeAgent({ agent: 'cloud-init' }, ARTICLE_CLOUD_CONFIG), 'cloud-init');
  t.is(nodeAgent({ agent: 'coreos-cloudinit' }, ARTICLE_CLOUD_CONFIG), 'coreos-cloudinit');
  t.is(nodeAgent({ agent: 'rancheros' }, '#cloud-config\nrancher: {}\n'), 'rancheros');
});

test('the plan decides both once per node, from the node\'s own config', (t) => {
  const tree = tempTree({
    'scenario.yaml': 'name: x\nimage: flatcar-stable\nnodes:\n  a: { address: 192.168.0.10, config: a.json }\n  b: { address: 192.168.0.11, config: b.yaml }\n  c: { address: 192.168.0.12, config: c.yaml }\nsteps:\n  - name: s\n    on: a\n    run: "true"\n',
    'a.json': ign('3.3.0', [{ name: 'sshd.socket', contents: '[Socket]\nListenStream=[::]:2345\n' }]),
    'b.yaml': ARTICLE_CLOUD_CONFIG.replace('hostname: "node01"', 'hostname: "{{node.name}}"'),
    'c.yaml': '#cloud-config\nhostname: c\n',
  });
  t.teardown(tree.remove);
  const plan = loadPlan(tree.dir);
  t.deepEqual(plan.nodes.map((n) => [n.name, n.agent, n.guestSshPort]), [['a', 'ignition', 2345], ['b', 'coreos-cloudinit', 2345], ['c', 'coreos-cloudinit', 22]]);
});

test('the article scenarios: basic-config moves SSH to 2345; the etcd ones keep 22; labos nodes are cloud-init\'s', (t) => {
  const basic = loadPlan('scenarios/basic-config');
  t.deepEqual(basic.nodes.map((n) => [n.name, n.agent, n.guestSshPort]), [['node01', 'cloud-init', 2345]]);
  for (const s of ['scenarios/etcd-discovery', 'scenarios/etcd-discovery/article-order.yaml']) {
    t.deepEqual(loadPlan(s).nodes.map((n) => [n.agent, n.guestSshPort]), [['cloud-init', 22], ['cloud-init', 22], ['cloud-init', 22]], s);
  }
});
