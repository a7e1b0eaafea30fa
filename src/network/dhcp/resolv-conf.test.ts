import { expect, test } from "bun:test";
import { parseResolvConf } from "./resolv-conf.ts";

test.each([
  [
    "a Kubernetes pod's resolv.conf",
    "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n",
    { dns: ["10.96.0.10"], searchDomains: ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"] },
  ],
  ["empty", "", { dns: [], searchDomains: [] }],
  [
    "comments, blank lines, tabs, CRLF, trailing dots",
    "# generated\r\n\r\nnameserver\t10.0.0.1 ; primary\r\n  nameserver 10.0.0.2\r\nsearch\texample.org. corp.example.org\r\n",
    { dns: ["10.0.0.1", "10.0.0.2"], searchDomains: ["example.org", "corp.example.org"] },
  ],
  [
    "IPv6 and invalid name servers skipped, duplicates dropped",
    "nameserver fd00::10\nnameserver 10.96.0.10\nnameserver 10.96.0.10\nnameserver 999.1.1.1\nnameserver\n",
    { dns: ["10.96.0.10"], searchDomains: [] },
  ],
  ["the last of search/domain wins (domain last)", "search a.example b.example\ndomain c.example\n", { dns: [], searchDomains: ["c.example"] }],
  ["the last of search/domain wins (search last)", "domain c.example\nsearch a.example a.example\n", { dns: [], searchDomains: ["a.example"] }],
  ["unknown keywords ignored", "sortlist 10.0.0.0\noptions rotate\nlookup file bind\n", { dns: [], searchDomains: [] }],
])("%s", (_name, text, expected) => {
  expect(parseResolvConf(text)).toEqual(expected);
});
