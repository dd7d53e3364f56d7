import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Token } from './hsm/token';

/** Liveness for operators and tests: 200 when the token is reachable, 503 while it is away. */
@Controller('_kms')
export class HealthController {
  constructor(@Inject(Token) private readonly token: Token) {}

  @Get('health')
  health(@Res() res: Response): void {
    res.status(this.token.available ? 200 : 503).json({ token: this.token.available ? 'up' : 'down', pid: process.pid });
  }
}
