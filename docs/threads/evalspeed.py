import sys, time, os
import openmm as mm, openmm.app as app, openmm.unit as u
import openmmswitchingdp as sdp
from openmmswitchingdp import bundled
model = {"fast": bundled.FAST_MODEL, "acc": bundled.ACCURATE_MODEL, "hand": bundled.HANDMADE_FAST_MODEL}[sys.argv[1]]
threads = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "d" else None
if threads:
    import torch; torch.set_num_threads(threads)
from openmmswitchingdp.schemes import Structure
copies = int(os.environ.get("COPIES", "1"))
st = Structure.from_pdb(bundled.WATER_PDB, copies)
system = mm.System()
for m in st.masses: system.addParticle(m)
system.setDefaultPeriodicBoxVectors(*[mm.Vec3(*v) for v in st.box])
f = sdp.SwitchingDPForce(model); f.setTypes(list(st.elements)); system.addForce(f)
integ = mm.LangevinMiddleIntegrator(330*u.kelvin, 1/u.picosecond, 0.5*u.femtosecond)
ctx = mm.Context(system, integ, mm.Platform.getPlatformByName("CPU"))
ctx.setPositions(st.positions*u.nanometer); ctx.setVelocitiesToTemperature(330*u.kelvin, 1)
integ.step(10)
n = int(os.environ.get('N', '100'))
t = time.perf_counter(); integ.step(n); ctx.getState(getEnergy=True); dt = time.perf_counter()-t
print(f"{sys.argv[1]} threads={threads} env OMP={os.environ.get('OMP_NUM_THREADS')} WAIT={os.environ.get('OMP_WAIT_POLICY')}: {n/dt:.1f} steps/s")
