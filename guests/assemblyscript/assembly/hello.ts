// hello (AssemblyScript, HTTP extended mode): answers GET /m/hello/... with who asked and what, and echoes a POST's
// body. Imports only the http_* functions it uses.
import { httpRequestBody, httpRequestHeader, httpRequestMethod, httpRequestTarget, httpResponseHeader,
  httpResponseStatus, httpResponseWrite, httpResponseWriteBytes } from "./tinywasm";

export function handle_http(): i32 {
  const method = httpRequestMethod();
  httpResponseHeader("Content-Type", "text/plain;charset=UTF-8");
  if (method == "POST") {
    httpResponseStatus(201);
    httpResponseWriteBytes(httpRequestBody());
    return 1;
  }
  const user = httpRequestHeader("X-User");
  httpResponseWrite("hello " + (user != null ? user : "nobody") + ": " + method + " " + httpRequestTarget());
  return 1;
}
