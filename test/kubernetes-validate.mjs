// Validates Kubernetes objects against the Kubernetes JSON schemas of `kubernetes-models`
// (ESM only, so the jest test runs this in a child process). Reads a JSON array of objects
// on stdin; prints a JSON array with, per object, `{ kind, name, errors }` (`errors` empty
// when valid, `null` when this script knows no model for its apiVersion and kind).
import * as core from 'kubernetes-models/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';

const models = { v1: core, 'apps/v1': apps, 'policy/v1': policy, 'autoscaling/v2': autoscaling };
let input = '';
for await (const chunk of process.stdin) input += chunk;
const results = JSON.parse(input).map((obj) => {
  const Model = models[obj.apiVersion]?.[obj.kind];
  const name = obj.metadata?.name;
  if (typeof Model !== 'function' || Model.kind !== obj.kind) return { kind: obj.kind, name, errors: null };
  try {
    new Model(obj).validate();
    return { kind: obj.kind, name, errors: [] };
  } catch (err) {
    return { kind: obj.kind, name, errors: [String(err.message ?? err)] };
  }
});
process.stdout.write(JSON.stringify(results));
