package sbom_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/vouchdev/vouch/sbom"
)

func ExampleDiff() {
	old, _ := sbom.Decode(strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
		{"type":"library","name":"lodash","version":"4.17.21","purl":"pkg:npm/lodash@4.17.21","licenses":[{"license":{"id":"MIT"}}]},
		{"type":"library","name":"requests","version":"2.31.0","purl":"pkg:pypi/requests@2.31.0"}]}`))
	new, _ := sbom.Decode(strings.NewReader(`{"spdxVersion":"SPDX-2.3","packages":[
		{"SPDXID":"SPDXRef-1","name":"lodash","versionInfo":"4.17.20","licenseConcluded":"NOASSERTION","licenseDeclared":"MIT",
		 "externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:npm/lodash@4.17.20"}]},
		{"SPDXID":"SPDXRef-2","name":"Requests","versionInfo":"2.32.3",
		 "externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:pypi/Requests@2.32.3"}]},
		{"SPDXID":"SPDXRef-3","name":"left-pad","versionInfo":"1.3.0","licenseDeclared":"WTFPL",
		 "externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:npm/left-pad@1.3.0"}]}]}`))
	report := sbom.Diff(old, new)
	report.WriteText(os.Stdout)
	err := report.Gate(sbom.Gates{FailOn: []string{"downgrade"}, DenyLicenses: []string{"WTFPL"}})
	fmt.Println(err)
	// Output:
	// SBOM diff: 1 added, 1 upgraded, 1 downgraded, 0 unchanged
	// warning: the SBOMs are in different formats (old: cyclonedx-json, new: spdx-json), which record different details (locations, license form)
	//
	// added       npm/left-pad   1.3.0               WTFPL
	// downgraded  npm/lodash     4.17.21 -> 4.17.20  MIT
	// upgraded    pypi/Requests  2.31.0 -> 2.32.3
	// sbom diff: 2 change(s) denied by gates: npm/left-pad 1.3.0 (WTFPL) brings in denied license WTFPL; downgrade npm/lodash 4.17.21 -> 4.17.20
}

func ExampleRules_Evaluate() {
	doc, _ := sbom.Decode(strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
		{"type":"library","name":"event-stream","version":"3.3.6","purl":"pkg:npm/event-stream@3.3.6"},
		{"type":"library","name":"dual","version":"1.0.0","purl":"pkg:npm/dual@1.0.0","licenses":[{"expression":"MIT OR AGPL-3.0-only"}]},
		{"type":"library","name":"strict","version":"1.0.0","purl":"pkg:npm/strict@1.0.0","licenses":[{"expression":"MIT AND AGPL-3.0-only"}]}]}`))
	rules := sbom.Rules{DenyLicenses: []string{"AGPL-3.0-only"}, DenyPackages: []string{"pkg:npm/event-stream@3.3.6"}}
	for _, v := range rules.Evaluate(doc) {
		fmt.Println(v.Reason)
	}
	// Output:
	// npm/event-stream 3.3.6 matches denied package pkg:npm/event-stream@3.3.6
	// npm/strict 1.0.0 is licensed AGPL-3.0-only AND MIT, which needs denied license AGPL-3.0-only
}

func ExampleNormalizeLicense() {
	fmt.Println(sbom.NormalizeLicense("mit and (apache-2.0 or GPL-2.0+)"))
	// Output: (Apache-2.0 OR GPL-2.0-or-later) AND MIT
}
