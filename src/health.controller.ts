import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Token } from './hsm/token';

/**
 * Liveness for operators, load balancers and tests: 200 `{"status":"up"}` when the token is
 * reachable, 503 `{"status":"down"}` while it is away. Callers are not authenticated, so the
 * answer says nothing more (no versions, process ids, token details or counts).
 */
@Controller('_kms')
export class HealthController {
  constructor(@Inject(Token) private readonly token: Token) {}

  @Get('health')
  health(@Res() res: Response): void {
    const up = this.token.available;
    res.status(up ? 200 : 503).json({ status: up ? 'up' : 'down' });
  }
}
