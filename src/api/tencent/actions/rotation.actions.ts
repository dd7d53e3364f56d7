import { RotationService } from '../../../rotation/rotation.service';
import { ActionDef } from './action';

/** Key rotation: its schedule, its status, and RotateKey (done before the answer; TaskId is the new version's id). */
export function rotationActions(rotation: RotationService): ActionDef[] {
  return [
    {
      name: 'EnableKeyRotation',
      params: ['KeyId', 'RotateDays'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        await rotation.enable(principal, keyId, params.uint('RotateDays'));
        return {};
      },
    },
    {
      name: 'DisableKeyRotation',
      params: ['KeyId'],
      async run({ principal, params }) {
        await rotation.disable(principal, params.str('KeyId', true));
        return {};
      },
    },
    {
      name: 'GetKeyRotationStatus',
      params: ['KeyId'],
      stateless: true,
      async run({ principal, params }) {
        return { KeyRotationEnabled: await rotation.enabled(principal, params.str('KeyId', true)) };
      },
    },
    {
      name: 'RotateKey',
      params: ['KeyId'],
      async run({ principal, params }) {
        return { TaskId: await rotation.rotateNow(principal, params.str('KeyId', true)) };
      },
    },
  ];
}
