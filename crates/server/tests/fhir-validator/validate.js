#!/usr/bin/env node
// Validates FHIR R4 (4.0.1) resources with the `fhir` package (lantanagroup FHIR.js), an implementation
// independent of kiemdich: its structure definitions check every element's name, type, cardinality, primitive
// format, required value-set bindings and reference targets, and an element R4 does not define is an error
// here (errorOnUnexpected). FHIR.js does not evaluate the specification's invariants, so the few that bind
// what kiemdich emits are checked below, each with its key and text from the R4 specification, together with
// the JSON representation's rules (json.html: no null, no empty object, array or string).
//
// Usage: node validate.js [FILE...]   (without files, a JSON value on stdin)
// Input: one resource, or an array of resources. Output (stdout): a JSON array, one
// {"valid": bool, "messages": [{"severity", "location", "message"}]} per resource, in order.
'use strict';

const fs = require('fs');
const { Fhir } = require('fhir');

const fhir = new Fhir();

// FHIR.js tests primitive formats with unanchored regular expressions ("03/08/2021" passes as a date for the
// "2021" inside it); the R4 formats are whole-value patterns, so they are tested again here anchored.
const { Constants } = require('fhir/constants');
const anchored = (r) => new RegExp(`^(?:${r.source})$`);
const FORMATS = {
  date: anchored(Constants.PrimitiveDateRegex),
  dateTime: anchored(Constants.PrimitiveDateTimeRegex),
  time: anchored(Constants.PrimitiveTimeRegex),
  code: anchored(Constants.PrimitiveCodeRegex),
  id: anchored(Constants.PrimitiveIdRegex),
  oid: anchored(Constants.PrimitiveOidRegex),
  instant: /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$/,
};

function primitiveFormats(resource, property, location, value) {
  const format = FORMATS[property._type];
  if (!format) return [];
  const values = Array.isArray(value) ? value : [value];
  return values
    .filter((v) => typeof v !== 'string' || !format.test(v))
    .map((v) => ({ severity: 'error', location, message: `Invalid ${property._type} format for value ${JSON.stringify(v)} (anchored)` }));
}

// The JSON representation's rules (R4 json.html): no nulls, no empty objects, arrays or strings.
function jsonRules(value, path, out) {
  if (value === null) {
    out.push({ severity: 'error', location: path, message: 'null is not allowed in FHIR JSON' });
  } else if (Array.isArray(value)) {
    if (value.length === 0) out.push({ severity: 'error', location: path, message: 'empty arrays are not allowed' });
    value.forEach((v, i) => jsonRules(v, `${path}[${i}]`, out));
  } else if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) out.push({ severity: 'error', location: path, message: 'empty objects are not allowed' });
    for (const k of keys) jsonRules(value[k], `${path}.${k}`, out);
  } else if (typeof value === 'string' && value.trim() === '') {
    out.push({ severity: 'error', location: path, message: 'strings must not be empty' });
  }
}

const some = (v) => v !== undefined && v !== null;

// Invariants of R4 Bundle (bundle.html#invs).
function bundleInvariants(b, fail) {
  const entries = b.entry || [];
  if (some(b.total) && !['searchset', 'history'].includes(b.type)) fail('bdl-1', 'total only when a search or history');
  if (b.type !== 'searchset' && entries.some((e) => some(e.search))) fail('bdl-2', 'entry.search only when a search');
  const needsRequest = ['batch', 'transaction', 'history'].includes(b.type);
  if (entries.some((e) => some(e.request) !== needsRequest)) {
    fail('bdl-3', 'entry.request mandatory for batch/transaction/history, otherwise prohibited');
  }
  const needsResponse = ['batch-response', 'transaction-response', 'history'].includes(b.type);
  if (entries.some((e) => some(e.response) !== needsResponse)) {
    fail('bdl-4', 'entry.response mandatory for batch-response/transaction-response/history, otherwise prohibited');
  }
  entries.forEach((e, i) => {
    if (!some(e.resource) && !some(e.request) && !some(e.response)) {
      fail('bdl-5', `entry[${i}]: must be a resource unless there's a request or response`);
    }
    if (some(e.fullUrl) && e.fullUrl.includes('/_history/')) fail('bdl-8', `entry[${i}]: fullUrl cannot be a version specific reference`);
  });
  if (b.type !== 'history') {
    const seen = new Set();
    for (const e of entries) {
      if (!some(e.fullUrl)) continue;
      const key = `${e.fullUrl}|${(e.resource && e.resource.meta && e.resource.meta.versionId) || ''}`;
      if (seen.has(key)) fail('bdl-7', `FullUrl must be unique in a bundle (${e.fullUrl})`);
      seen.add(key);
    }
  }
  if (b.type === 'document') {
    if (!(b.identifier && some(b.identifier.system) && some(b.identifier.value))) fail('bdl-9', 'A document must have an identifier with a system and a value');
    if (!some(b.timestamp)) fail('bdl-10', 'A document must have a date');
    if (!(entries[0] && entries[0].resource && entries[0].resource.resourceType === 'Composition')) {
      fail('bdl-11', 'A document must have a Composition as the first resource');
    }
  }
  if (b.type === 'message' && !(entries[0] && entries[0].resource && entries[0].resource.resourceType === 'MessageHeader')) {
    fail('bdl-12', 'A message must have a MessageHeader as the first resource');
  }
}

// Invariants of R4 CapabilityStatement (capabilitystatement.html#invs) that bind a server's own statement.
function capabilityInvariants(c, fail) {
  if (!some(c.rest) && !some(c.messaging) && !some(c.document)) fail('cpb-1', 'A Capability Statement SHALL have at least one of REST, messaging or document element.');
  if (!some(c.description) && !some(c.software) && !some(c.implementation)) fail('cpb-2', 'A Capability Statement SHALL have at least one of description, software, or implementation element.');
  if (c.kind === 'instance' && !some(c.implementation)) fail('cpb-14', 'If kind = instance, implementation must be present and software may be present');
  if (c.kind === 'capability' && (some(c.implementation) || !some(c.software))) fail('cpb-15', 'If kind = capability, implementation must be absent, software must be present');
  if (c.kind === 'requirements' && (some(c.implementation) || some(c.software))) fail('cpb-16', 'If kind=requirements, implementation and software must be absent');
  for (const rest of c.rest || []) {
    const types = (rest.resource || []).map((r) => r.type);
    if (new Set(types).size !== types.length) fail('cpb-12', 'A given resource can only be described once per RESTful mode.');
  }
}

// Invariant of R4 OperationOutcome's issues and of every resource (dom-*) that kiemdich could break.
function invariants(resource, messages) {
  const fail = (key, text) => messages.push({ severity: 'error', location: resource.resourceType, message: `${key}: ${text}` });
  if (resource.resourceType === 'Bundle') {
    bundleInvariants(resource, fail);
    for (const e of resource.entry || []) if (e.resource) invariants(e.resource, messages);
  }
  if (resource.resourceType === 'CapabilityStatement') capabilityInvariants(resource, fail);
  if (some(resource.contained) && resource.contained.some((c) => some(c.contained))) fail('dom-2', 'If the resource is contained in another resource, it SHALL NOT contain nested Resources');
}

function validate(resource) {
  const messages = [];
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
    return { valid: false, messages: [{ severity: 'fatal', location: '', message: 'not a JSON object' }] };
  }
  jsonRules(resource, resource.resourceType || '', messages);
  const structural = fhir.validate(resource, { errorOnUnexpected: true, onBeforeValidateProperty: primitiveFormats });
  for (const m of structural.messages) {
    messages.push({ severity: m.severity, location: m.location, message: m.message });
  }
  invariants(resource, messages);
  const valid = !messages.some((m) => m.severity === 'error' || m.severity === 'fatal');
  return { valid, messages };
}

function main() {
  const files = process.argv.slice(2);
  const texts = files.length ? files.map((f) => fs.readFileSync(f, 'utf8')) : [fs.readFileSync(0, 'utf8')];
  const resources = [];
  for (const text of texts) {
    const value = JSON.parse(text);
    if (Array.isArray(value)) resources.push(...value);
    else resources.push(value);
  }
  process.stdout.write(JSON.stringify(resources.map(validate)) + '\n');
}

main();
