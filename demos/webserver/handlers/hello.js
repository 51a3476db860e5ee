// A JavaScript handler, served by QuickJS: serve() hands it each request
// arriving on the port its process was given (8082 in the webserver demo).
let served = 0;
console.log('hello.js: serving on the listening socket this process was given');
serve((request) => {
  served += 1;
  if (request.path.startsWith('/json')) {
    return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ served, method: request.method, path: request.path }) };
  }
  return {
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body: `<!doctype html><title>QuickJS</title><h1>Hello from JavaScript</h1><p>Request ${served}: ${request.method} ${request.path}, answered by a QuickJS process.</p>\n`,
  };
});
