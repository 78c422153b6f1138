// Checks that Terraform files are formatted as `terraform fmt` formats them: HashiCorp's
// hclwrite.Format (the function `terraform fmt` uses), as shipped in the npm package
// @cdktf/hcl-tools, installed by scripts/test into .npm-tools/ (no terraform binary is needed).
// Usage: node scripts/hcl-fmt-check.js FILE.tf...   Exit 1 if any file would be reformatted.
const path = require("path");
const fs = require("fs");
const { format } = require(path.join(__dirname, "..", ".npm-tools", "node_modules", "@cdktf", "hcl-tools"));

(async () => {
  let bad = 0;
  for (const f of process.argv.slice(2)) {
    const src = fs.readFileSync(f, "utf8");
    const out = await format(src);
    if (out === src) {
      console.log(`fmt-clean ${f}`);
    } else {
      bad++;
      console.log(`NOT fmt-clean ${f}; formatted it reads:\n${out}`);
    }
  }
  process.exit(bad ? 1 : 0);
})();
