// Call records as FreeSWITCH's mod_json_cdr posts them to `POST /fs/cdr`, built the way
// server/littlepbx/tests/it/cdr.rs builds them (`Call::record`): the A leg's `variables`,
// `app_log` and a `callflow` of caller profiles, newest first, times in microseconds. The org
// marker `lpbx_org` is what attributes a record to an org.
import { env, plainUrl } from './lib.mjs';

export const MINUTE = 60_000;

/**
 * A call as a test thinks of it. `kind`: 'internal' (a phone calls another extension or a
 * feature code), 'outbound' (to the outside through the org's gateway), 'inbound' (a carrier
 * calls one of the org's DIDs). `talk`: seconds of conversation (0: nobody answered);
 * `voicemail`: seconds in voicemail when nobody answered.
 */
export function call(org, uuid, kind, startMs, { ext = '101', other = '102', did = null, talk = 0, voicemail = 0, ring = 6 } = {}) {
  return { org, uuid, kind, startMs, ext, other, did, talk, voicemail, ring };
}

const feature = (c) => c.kind === 'internal' && c.other.startsWith('*');
export const answered = (c) => c.talk > 0;
export const missed = (c) => !answered(c) && c.kind !== 'outbound';

/** Microseconds: created, answered (0 = never), bridged (0 = never), hang-up. */
function times(c) {
  const created = c.startMs * 1000;
  const ringEnd = created + c.ring * 1_000_000;
  if (c.talk > 0) return [created, ringEnd, feature(c) ? 0 : ringEnd, ringEnd + c.talk * 1_000_000];
  if (c.voicemail > 0) return [created, ringEnd, 0, ringEnd + c.voicemail * 1_000_000];
  return [created, 0, 0, ringEnd];
}

export function billsec(c) {
  const [, answeredAt, , hangup] = times(c);
  return answeredAt > 0 ? Math.floor((hangup - answeredAt) / 1_000_000) : 0;
}

/** The A leg's record, as mod_json_cdr writes it. */
export function record(c) {
  const [created, answeredAt, bridged, hangup] = times(c);
  const domain = `pbx.${c.org}.localhost`;
  const stamp = (us) => (us === 0 ? '' : new Date(us / 1000).toISOString().replace('T', ' ').slice(0, 19));
  const orgCtx = `org_${c.org}`;
  const inboundCtx = `org_${c.org}_inbound`;
  const vars = {};
  const set = (k, v) => { if (v !== '' && v !== null && v !== undefined) vars[k] = String(v); };
  set('direction', 'inbound');
  set('uuid', c.uuid);
  set('call_uuid', c.uuid);
  set('session_id', '17');
  set('start_stamp', stamp(created));
  set('start_epoch', Math.floor(created / 1_000_000));
  set('start_uepoch', created);
  set('end_stamp', stamp(hangup));
  set('end_uepoch', hangup);
  if (answeredAt > 0) {
    set('answer_stamp', stamp(answeredAt));
    set('answer_uepoch', answeredAt);
  } else {
    set('answer_uepoch', '0');
  }
  if (bridged > 0) set('bridge_uepoch', bridged);
  set('duration', Math.floor((hangup - created) / 1_000_000));
  set('billsec', billsec(c));
  const cleared = c.talk > 0 || c.voicemail > 0;
  set('hangup_cause', cleared ? 'NORMAL_CLEARING' : 'NO_ANSWER');
  set('hangup_cause_q850', cleared ? '16' : '19');
  set('domain_name', domain);
  set('lpbx_org', c.org);
  set('hold_music', `local_stream://${c.org}_moh`);
  let bridgeData; let callerNumber; let destFirst;
  if (c.kind === 'inbound') {
    set('channel_name', `sofia/external/${c.other}@198.51.100.7`);
    set('sip_from_user', c.other);
    set('sip_from_host', '198.51.100.7');
    set('sip_full_from', `<sip:${c.other}@198.51.100.7>;tag=Kx3`);
    set('sip_network_ip', '198.51.100.7');
    set('lpbx_trunk_org', c.org);
    set('lpbx_did', c.did ?? '');
    set('caller_id_number', c.other);
    [bridgeData, callerNumber, destFirst] = [`user/${c.ext}@${domain}`, c.other, (c.did ?? '').replace(/^\+/, '')];
  } else {
    set('channel_name', `sofia/internal/${c.ext}@${domain}`);
    set('sip_from_user', c.ext);
    set('sip_from_host', domain);
    set('sip_full_from', `"Ann Example" <sip:${c.ext}@${domain}>;tag=a1b2`);
    set('sip_user_agent', 'Yealink SIP-T46S 66.86.0.15');
    set('user_name', c.ext);
    set('lpbx_ext', c.ext);
    set('user_context', orgCtx);
    set('caller_id_number', c.ext);
    if (c.kind === 'outbound') {
      set('effective_caller_id_number', c.did ?? '');
      [bridgeData, callerNumber, destFirst] = [`sofia/gateway/${c.org}.out/${c.other}`, c.ext, c.other];
    } else {
      [bridgeData, callerNumber, destFirst] = [`user/${c.other}@${domain}`, c.ext, c.other];
    }
  }
  const apps = [
    { app_name: 'export', app_data: `lpbx_org=${c.org}` },
    { app_name: 'limit', app_data: `hash lpbx_calls ${c.org} -1` },
  ];
  if (!feature(c)) {
    apps.push({ app_name: 'bridge', app_data: bridgeData });
  } else {
    apps.push({ app_name: 'answer', app_data: '' });
    apps.push({ app_name: 'voicemail', app_data: `check default ${domain}` });
  }
  if (c.voicemail > 0) {
    apps.push({ app_name: 'answer', app_data: '' });
    apps.push({ app_name: 'voicemail', app_data: `default ${domain} ${c.ext}` });
  }
  const last = apps[apps.length - 1];
  set('last_app', last.app_name);
  set('last_arg', last.app_data);

  const timesOf = (tProfile, tBridged) => ({
    created_time: String(created), profile_created_time: String(tProfile),
    progress_time: '0', progress_media_time: String(created + 500_000),
    answered_time: String(answeredAt), bridged_time: String(tBridged),
    last_hold_time: '0', hold_accum_time: '0', hangup_time: String(hangup),
    resurrect_time: '0', transfer_time: '0',
  });
  const profile = (index, context, dest, tBridged) => {
    const caller = {
      username: c.kind === 'inbound' ? '' : c.ext, dialplan: 'XML', caller_id_name: '',
      ani: callerNumber, aniii: '', caller_id_number: callerNumber, network_addr: '198.51.100.7',
      rdnis: '', destination_number: dest, uuid: c.uuid, source: 'mod_sofia', context,
      chan_name: 'sofia/internal/x',
    };
    if (tBridged > 0) {
      caller.originatee = { originatee_caller_profiles: [
        { username: '', destination_number: c.other, context, uuid: `${c.uuid}-b` },
      ] };
    }
    return {
      dialplan: 'XML', profile_index: String(index),
      extension: { name: 'lpbx', number: dest, applications: apps },
      caller_profile: caller,
      times: timesOf(created + index * 1000, tBridged),
    };
  };
  const callflow = c.kind === 'inbound'
    ? [profile(2, inboundCtx, c.ext, bridged), profile(1, 'public', destFirst, 0)]
    : [profile(1, orgCtx, destFirst, bridged)];
  return {
    'core-uuid': '8d5c8f0e-3c3b-4a5e-9d7e-0a1b2c3d4e5f',
    switchname: 'fs1',
    channel_data: { state: 'CS_REPORTING', direction: 'inbound', state_number: '11' },
    variables: vars,
    app_log: { applications: apps.map((a) => ({ ...a, app_stamp: String(created) })) },
    callflow,
  };
}

/** Posts a call's record as FreeSWITCH does; returns the status and the body. */
export async function post(c) {
  const response = await fetch(plainUrl(`/fs/cdr?uuid=${encodeURIComponent(c.uuid)}`), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`freeswitch:${env.fsPassword}`).toString('base64')}`,
      'content-type': 'application/json',
      'user-agent': 'freeswitch-json/1.0',
    },
    body: JSON.stringify(record(c)),
  });
  return { status: response.status, body: await response.text() };
}
