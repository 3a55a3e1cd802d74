// uwsgi upstreams (uWSGI's native protocol): the packet header and vars of nginx's uwsgi_params,
// then the body; uWSGI answers with a raw HTTP/1.x response and closes the connection. A var block
// over the protocol's 64 KiB is refused before connecting (EPROTO → 502, with the reason logged),
// as nginx refuses it ("uwsgi request is too big"). uWSGI itself accepts only what fits its
// --buffer-size (4096 by default) and resets the connection otherwise: run it with
// `--buffer-size 65535` when requests carry big cookies or many headers.
import { rootOption, uwsgiParams, withContentLength } from '../cgi/params.js';
import { encodeUwsgiRequest } from './codec.js';
import { CgiStreamTransport } from '../cgi/stream.js';
import type { CgiTransportOptions } from '../cgi/options.js';

export class UwsgiTransport extends CgiStreamTransport {
  constructor(address: string, options: CgiTransportOptions) {
    super(address, options, (opts, contentLength) => {
      return encodeUwsgiRequest(uwsgiParams(withContentLength(opts.info, contentLength), rootOption(opts)));
    });
  }
}
