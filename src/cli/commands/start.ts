import { ConfigError, describeSettings, loadConfig } from '../../config.ts';
import { createLogger } from '../../log.ts';
import { startVoltyard } from '../../app.ts';
import { UsageError, parseArgs, type Command } from '../command.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'run the server (REST API, dashboard and OCPP central system on one port)',
  usage: [
    'Usage: voltyard start [--port N] [--data-dir DIR]',
    '',
    'Runs Voltyard. With no settings it uses an embedded SQLite file under ./data and needs no other service.',
    'Stations connect to ws://<host>:<port>/ocpp/<stationId> (subprotocol ocpp1.6).',
    '',
    'Options (each overrides its environment variable):',
    '  --port N          VOLTYARD_PORT',
    '  --data-dir DIR    VOLTYARD_DATA_DIR',
    '',
    describeSettings(),
  ].join('\n'),
  async run(args) {
    const { flags, positionals } = parseArgs(args, ['port', 'data-dir']);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const env = { ...process.env };
    for (const [flag, value] of flags) {
      if (flag === 'port') env.VOLTYARD_PORT = String(value);
      else if (flag === 'data-dir') env.VOLTYARD_DATA_DIR = String(value);
      else throw new UsageError(`unknown option --${flag}`);
    }
    let config;
    try {
      config = loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) {
        console.error(`voltyard: configuration error: ${err.message}`);
        return 78; // EX_CONFIG
      }
      throw err;
    }
    const logger = createLogger(config.logLevel);
    const server = await startVoltyard(config, { logger });
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'signal received');
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        server.close().then(resolve, (err) => { logger.error({ err }, 'shutdown failed'); resolve(); });
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};
