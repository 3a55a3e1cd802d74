// SCGI upstreams: the netstring of nginx's scgi_params, CONTENT_LENGTH first and SCGI=1 (the SCGI
// spec), then the body; the response (an HTTP/1.x or CGI head) runs until the server closes.
import { rootOption, scgiParams, withContentLength } from '../cgi/params.js';
import { encodeScgiRequest } from './codec.js';
import { CgiStreamTransport } from '../cgi/stream.js';
import type { CgiTransportOptions } from '../cgi/options.js';

export class ScgiTransport extends CgiStreamTransport {
  constructor(address: string, options: CgiTransportOptions) {
    super(address, options, (opts, contentLength, bodyLength) => {
      // The SCGI spec requires CONTENT_LENGTH, "0" when there is no body.
      return encodeScgiRequest(scgiParams(withContentLength(opts.info, contentLength), rootOption(opts)), bodyLength);
    });
  }
}
