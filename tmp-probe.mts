import { parseConfig } from './src/config/index.js';
import { formatIssue } from './src/config/types.js';
function run(t: string, f = '/x/gatehouse.yaml') {
  try { const r = parseConfig(t, f); console.log(JSON.stringify(r.config, null, 1).slice(0, 3000)); r.warnings.forEach(w => console.log(formatIssue(w))); }
  catch (e: any) { console.log(e.issues ? e.message : e); }
}
run(`listen: { http: 8080, https: 8443 }
storage: ./certs
sites:
  - hosts: [localhost]
    routes: [{ location: /, root: ./public }]
`);
run(`listen: { http: 8080, https: [8443, "[::1]:8080", "10.0.0.1", "::1:3"] }
admin: 0.0.0.0:2019
trustedProxies: [0.0.0.0/0, 10, 1.2.3.4/40]
upstreams:
  app: { servers: [http://a:1, { url: "fastcgi://x:1" }, "http://b/x"] }
  unused: { servers: http://c }
sites:
  - hosts: [Example.COM, "*.example.com", "~^(www\\\\.)?x$", "~(("]
    hsts: 1d
    routes:
      - location: /api/
        proxy: ap
      - location: /api/
        proxy: app
      - location: "~ \\\\.php$"
        proxy: http://app/x
      - location: /f
        root: ./www
        tryFiles: [$uri, "@nope"]
      - location: /r
        return: 301
      - location: /q
        return: 200 $hots
      - location: /h
        return: 200
        headers: { request: { set: { X-A: $foo, "Bad Name": x } } }
  - hosts: example.com
    default: true
    tls: off
    hsts: 5d
  - hosts: y.test
    default: true
`);
