// The yardstick: a bare `ws` server that parses each JSON frame and answers an OCPP-J CALL with a CALLRESULT carrying
// the call's own payload. Same port, path and subprotocol as Voltyard; no validation, storage or logic. Run as a child
// process by bench/ocpp.ts so its memory and CPU are measured on their own. Prints "listening <port>" when ready.
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has('ocpp2.0.1') ? 'ocpp2.0.1' : protocols.has('ocpp1.6') ? 'ocpp1.6' : false),
});

wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (Array.isArray(frame) && frame[0] === 2) ws.send(JSON.stringify([3, frame[1], frame[3]]));
  });
});

wss.on('listening', () => {
  const address = wss.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : port}`);
});

const stop = () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
