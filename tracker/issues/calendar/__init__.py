"""China's working days (工作日): the calendar of exceptions to the Monday–Friday week, seeded
from the ``chinese-calendar`` package and kept by admins, and the one home of working-day
arithmetic (``service.is_working_day``, ``add_working_days``, ``working_days_between``)."""
