// validate.js - checks debkeep's SBOMs with real validators from npm:
//   node validate.js cdx FILE    CycloneDX 1.5 JSON through @cyclonedx/cyclonedx-library's strict JSON validator
//   node validate.js spdx FILE   every licenseDeclared of an SPDX 2.3 JSON through spdx-expression-parse
//                                (the document's structure is checked by test-sbom.c: no npm package ships
//                                the SPDX 2.3 JSON schema)
// Exit 0 when valid, 1 with the validator's findings on stderr when not, 2 on usage or setup errors.
'use strict';
const fs = require('fs');

async function main() {
	const [kind, file] = process.argv.slice(2);
	if (!kind || !file) {
		console.error('usage: node validate.js cdx|spdx FILE');
		return 2;
	}
	const text = fs.readFileSync(file, 'utf8');
	if (kind === 'cdx') {
		const CDX = require('@cyclonedx/cyclonedx-library');
		const validator = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot5);
		const errors = await validator.validate(text);
		if (errors !== null) {
			console.error(JSON.stringify(errors, null, 2));
			return 1;
		}
		// The schema takes any string as an expression: parse each as SPDX too.
		const doc = JSON.parse(text);
		return checkExpressions((doc.components || []).flatMap(
			c => (c.licenses || []).filter(l => l.expression).map(l => [c['bom-ref'], l.expression])));
	}
	if (kind === 'spdx') {
		const doc = JSON.parse(text);
		return checkExpressions((doc.packages || []).filter(p => p.licenseDeclared !== 'NOASSERTION')
			.map(p => [p.SPDXID, p.licenseDeclared]));
	}
	console.error('validate.js: unknown kind ' + kind);
	return 2;
}

function checkExpressions(pairs) {
	const parse = require('spdx-expression-parse');
	let bad = 0;
	for (const [who, expr] of pairs) {
		try {
			parse(expr);
		} catch (e) {
			console.error(`${who}: ${expr}: ${e.message}`);
			bad++;
		}
	}
	return bad ? 1 : 0;
}

main().then(code => process.exit(code), err => {
	console.error(err && err.stack ? err.stack : String(err));
	process.exit(2);
});
