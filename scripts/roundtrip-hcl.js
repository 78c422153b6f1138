// Parses generated Terraform with HashiCorp's HCL parser (hcl2json, from the npm package
// @cdktf/hcl2json that scripts/test installs into .npm-tools/) and prints, as JSON, every
// resource string it reads: {FILE: [...]}. Literal strings come back in Terraform's template
// form, so `$${` and `%%{` are read back as `${` and `%{`. The jsonencode(...) around the
// resource style's policy is removed first so the parser returns the object's values.
// Usage: node scripts/roundtrip-hcl.js FILE.tf...
const path = require("path");
const fs = require("fs");
const { parse } = require(path.join(__dirname, "..", ".npm-tools", "node_modules", "@cdktf", "hcl2json"));

function collect(node, key, out) {
  if (Array.isArray(node)) {
    node.forEach((v) => collect(v, key, out));
  } else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "Resource" || k === "resources") {
        (Array.isArray(v) ? v : [v]).forEach((s) => out.push(s.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{")));
      } else {
        collect(v, k, out);
      }
    }
  }
  return out;
}

(async () => {
  const result = {};
  for (const f of process.argv.slice(2)) {
    let src = fs.readFileSync(f, "utf8");
    src = src.replace("policy = jsonencode({", "policy = {").replace(/\n  \}\)\n\}\n?$/, "\n  }\n}\n");
    result[f] = collect(await parse(path.basename(f), src), "", []);
  }
  process.stdout.write(JSON.stringify(result));
})().catch((e) => {
  console.error(`hcl2json could not parse: ${e}`);
  process.exit(1);
});
